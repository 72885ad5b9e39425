"""torch.save values beyond tensors that torch.load(weights_only=True) accepts:
collections.Counter (MultiStepLR's milestones), torch.Size, torch.device and torch dtypes.
graphnet.load rebuilds them as Counter, graphnet.Size, graphnet.device and graphnet dtypes
from checked plain values, and still refuses what it cannot rebuild
(graphnet/_serialization/_torch_allowlist.py, _torch_reader.py)."""

from __future__ import annotations

import collections

import pytest
import torch
from test_serialization import p_global, p_int, p_str, p_tuple, torch_zip

import graphnet
from graphnet._serialization import CheckpointError
from graphnet._serialization._errors import UnsafeCheckpointError


def _round_trip(tmp_path, value):
    """(what torch.load gives, what graphnet.load gives) for a torch.save of {"x": value}."""
    torch.save({"x": value}, tmp_path / "v.pt")
    return torch.load(tmp_path / "v.pt")["x"], graphnet.load(tmp_path / "v.pt")["x"]


def test_counter_loads_as_a_counter(tmp_path):
    want, got = _round_trip(tmp_path, collections.Counter({2: 1, 4: 2}))
    assert type(got) is collections.Counter and got == want


@pytest.mark.parametrize("dims", [(), (2, 3), (0, 5, 1)])
def test_size_loads_as_graphnet_size(tmp_path, dims):
    want, got = _round_trip(tmp_path, torch.Size(dims))
    assert type(got) is graphnet.Size and tuple(got) == tuple(want)


@pytest.mark.parametrize("device", [torch.device("cpu"), torch.device("cuda", 1),
                                    torch.device("meta")], ids=str)
def test_device_loads_as_graphnet_device(tmp_path, device):
    want, got = _round_trip(tmp_path, device)
    assert type(got) is graphnet.device
    assert (got.type, got.index) == (want.type, want.index)


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16", "int64", "int32",
                                  "int16", "int8", "uint8", "bool"])
def test_dtype_loads_as_graphnet_dtype(tmp_path, name):
    want, got = _round_trip(tmp_path, getattr(torch, name))
    assert want is getattr(torch, name)
    assert got is getattr(graphnet, name)


def test_values_nest_in_containers(tmp_path):
    value = {"shape": [torch.Size([4])], "meta": (torch.float16, torch.device("cpu")),
             "counts": collections.OrderedDict(c=collections.Counter("aab"))}
    torch.save(value, tmp_path / "nested.pt")
    got = graphnet.load(tmp_path / "nested.pt")
    assert got["shape"] == [graphnet.Size([4])]
    assert got["meta"] == (graphnet.float16, graphnet.device("cpu"))
    assert got["counts"]["c"] == collections.Counter("aab")


def _multistep(lib, milestones=(2, 4, 4, 7)):
    lib.manual_seed(0)
    param = lib.nn.Parameter(lib.zeros(2))
    opt = lib.optim.SGD([param], lr=0.1)
    return opt, lib.optim.lr_scheduler.MultiStepLR(opt, milestones=list(milestones), gamma=0.5)


def test_multistep_lr_state_from_torch_continues_as_in_torch(tmp_path):
    t_opt, t_sched = _multistep(torch)
    for _ in range(3):
        t_opt.step()
        t_sched.step()
    torch.save({"opt": t_opt.state_dict(), "sched": t_sched.state_dict()}, tmp_path / "s.pt")
    state = graphnet.load(tmp_path / "s.pt")
    assert type(state["sched"]["milestones"]) is collections.Counter
    # a fresh graphnet scheduler with other milestones takes the saved ones
    g_opt, g_sched = _multistep(graphnet, milestones=(1,))
    g_opt.load_state_dict(state["opt"])
    g_sched.load_state_dict(state["sched"])
    assert g_sched.milestones == t_sched.milestones
    for _ in range(8):
        t_opt.step()
        t_sched.step()
        g_opt.step()
        g_sched.step()
        assert g_sched.get_last_lr() == t_sched.get_last_lr()
        assert g_opt.param_groups[0]["lr"] == t_opt.param_groups[0]["lr"]


def test_torch_unsigned_dtypes_load_as_graphnets(tmp_path):
    torch.save({"x": torch.uint16, "y": torch.uint64}, tmp_path / "u16.pt")
    assert graphnet.load(tmp_path / "u16.pt") == {"x": graphnet.uint16, "y": graphnet.uint64}


def test_device_type_graphnet_lacks_is_refused(tmp_path):
    torch.save({"x": torch.device("mps")}, tmp_path / "mps.pt")
    with pytest.raises(CheckpointError, match=r"holds torch.device \('mps', None\)"):
        graphnet.load(tmp_path / "mps.pt")


def _hand_pickled(tmp_path, pickled: bytes):
    torch_zip(tmp_path / "h.pt", b"}" + p_str("x") + pickled + b"s")
    return graphnet.load(tmp_path / "h.pt")


COUNTER, SIZE, DEVICE = (p_global("collections", "Counter"), p_global("torch", "Size"),
                         p_global("torch", "device"))


@pytest.mark.parametrize(("pickled", "message"), [
    (COUNTER + p_tuple(b"]") + b"R", "Counter built from list, not a dict"),
    (COUNTER + p_tuple(p_str("abc")) + b"R", "Counter built from str, not a dict"),
    (SIZE + p_tuple(p_tuple(p_str("2"))) + b"R", "torch.Size built from"),
    (SIZE + p_tuple(p_tuple(b"\x88")) + b"R", "torch.Size built from"),   # True is not an int
    (DEVICE + p_tuple(p_int(0)) + b"R", "torch.device built from"),
    (DEVICE + p_tuple(p_str("cuda"), p_str("1")) + b"R", "torch.device built from"),
    (DEVICE + p_tuple(p_str("cuda"), p_int(-1)) + b"R", "holds torch.device"),
    (b"}" + SIZE + p_tuple(p_tuple()) + b"R" + p_int(1) + b"s", "uses a Size as a dict key"),
    (b"}" + p_global("torch", "float16") + p_int(1) + b"s", "uses a Dtype as a dict key"),
    (b"}" + DEVICE + p_tuple(p_str("cpu")) + b"R" + p_int(1) + b"s", "uses a Device as a dict"),
], ids=["counter_of_list", "counter_of_str", "size_of_str", "size_of_bool", "device_of_int",
        "device_index_str", "device_index_negative", "size_key", "dtype_key", "device_key"])
def test_malformed_values_are_refused(tmp_path, pickled, message):
    with pytest.raises(CheckpointError, match=message):
        _hand_pickled(tmp_path, pickled)


def test_other_collections_stay_refused(tmp_path):
    # torch.load refuses defaultdict too; its default factory would be code from the file
    torch.save({"x": collections.defaultdict(int, {1: 2})}, tmp_path / "dd.pt")
    with pytest.raises(UnsafeCheckpointError, match="collections.defaultdict"):
        graphnet.load(tmp_path / "dd.pt")
