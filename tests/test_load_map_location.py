"""graphnet.load against torch.load (torch 2.13, CPU): every map_location form (device, name,
dict of location tags, function of (storage, location)) on torch files saved from a GPU and
from the CPU and on graphnet's own files; and tensors that shared a storage when saved
(`[t, t[1:3]]`, tied weights) sharing it again after loading, eager and compiled."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
import torch.serialization

import graphnet as G
from graphnet._serialization import CheckpointError, _format

needs_no_gpu = pytest.mark.skipif(G.cuda.is_available(), reason="checks the CPU-only refusals")


def saved_from(location: str, obj) -> bytes:
    """torch.save bytes of `obj` as if its storages were on `location` ('cuda:0' without a GPU:
    torch.save asks location_tag where each storage is)."""
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: location
    try:
        buf = io.BytesIO()
        torch.save(obj, buf)
    finally:
        torch.serialization.location_tag = original
    return buf.getvalue()


def both(data: bytes, torch_map, graphnet_map="same"):
    """(torch.load result or exception, graphnet.load result or exception)."""
    graphnet_map = torch_map if graphnet_map == "same" else graphnet_map
    out = []
    for load, ml in ((torch.load, torch_map), (G.load, graphnet_map)):
        try:
            out.append(load(io.BytesIO(data), map_location=ml))
        except Exception as e:   # noqa: BLE001 - compared below
            out.append(e)
    return out


def assert_values(got, want) -> None:
    assert list(got) == list(want)
    for key in want:
        assert got[key].device == G.device("cpu")
        np.testing.assert_array_equal(got[key].numpy(), want[key].numpy())


STATE = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.tensor([1, 2], dtype=torch.int64)}


@pytest.mark.parametrize("location", ["cuda:0", "cpu"])
@pytest.mark.parametrize("name, torch_map, graphnet_map", [
    ("name", "cpu", "same"),
    ("device", torch.device("cpu"), G.device("cpu")),
    ("torch device", torch.device("cpu"), "same"),
    ("dict", {"cuda:0": "cpu"}, "same"),
    ("identity", lambda storage, loc: storage, "same"),
    ("cpu()", lambda storage, loc: storage.cpu(), "same"),
])
def test_map_location_forms_load_to_the_host_as_torch(location, name, torch_map, graphnet_map):
    want, got = both(saved_from(location, STATE), torch_map, graphnet_map)
    assert_values(got, want)


@needs_no_gpu
@pytest.mark.parametrize("torch_map", [None, {"cuda:1": "cpu"}, lambda s, loc: None, "cuda",
                                       {"cuda:0": "cuda:1"}])
def test_a_gpu_location_without_a_gpu_raises_as_torch(torch_map):
    want, got = both(saved_from("cuda:0", STATE), torch_map)
    assert isinstance(want, RuntimeError) and isinstance(got, RuntimeError)
    assert "Attempting to deserialize object on a CUDA device" in str(want)
    assert "Attempting to deserialize object on a CUDA device" in str(got)


@needs_no_gpu
def test_storage_cuda_in_a_map_function_raises_without_a_gpu():
    # NOTE: torch's CPU-only wheel raises an accidental TypeError ('<' between NoneType and int)
    # here; torch's CUDA builds, like graphnet's Tensor.cuda(), raise RuntimeError
    want, got = both(saved_from("cuda:0", STATE), lambda storage, loc: storage.cuda(0))
    assert isinstance(want, Exception)
    assert isinstance(got, RuntimeError) and "CUDA" in str(got)


@pytest.mark.parametrize("torch_map, graphnet_map, error", [
    (lambda storage, loc: "cpu", "same", TypeError),    # not a storage
    ({"cuda:0": torch.device("cpu")}, {"cuda:0": G.device("cpu")}, TypeError),  # not a string
    (b"cpu", "same", TypeError),
    (0, "same", TypeError),
    ({"cuda:0": "bogus"}, "same", RuntimeError),        # no such location
])
def test_bad_map_locations_raise_as_torch(torch_map, graphnet_map, error):
    want, got = both(saved_from("cuda:0", STATE), torch_map, graphnet_map)
    assert isinstance(want, error) and isinstance(got, error), (want, got)


@pytest.mark.parametrize("location", ["cuda:0", "cpu"])
def test_map_function_sees_what_torch_passes(location):
    """Called once per storage, with the file's location tag and a host storage of its bytes."""
    state = {"w": torch.arange(6.0), "v": torch.zeros(3, dtype=torch.float64), "half": None}
    state["half"] = state["w"][2:]   # same storage as w: one call for both
    calls = {"torch": [], "graphnet": []}

    def recorder(lib):
        def fn(storage, loc):
            calls[lib].append((loc, storage.nbytes(), len(storage), str(storage.device)))
            return storage
        return fn
    data = saved_from(location, state)
    torch.load(io.BytesIO(data), map_location=recorder("torch"))
    G.load(io.BytesIO(data), map_location=recorder("graphnet"))
    assert calls["graphnet"] == calls["torch"] == [(location, 24, 24, "cpu"),
                                                   (location, 24, 24, "cpu")]


def test_graphnet_files_are_saved_from_the_host():
    """graphnet's own files: each stored tensor is a storage tagged 'cpu', as a torch file
    saved from the CPU; the same maps give the same answers."""
    buf = io.BytesIO()
    G.save({"w": G.arange(6.0).reshape(2, 3), "b": G.tensor([1, 2])}, buf)
    calls = []
    for ml in ({"cuda:0": "cpu"}, {}, lambda s, loc: calls.append((loc, s.nbytes())), "cpu"):
        buf.seek(0)
        assert_values(G.load(buf, map_location=ml), STATE)
    assert calls == [("cpu", 24), ("cpu", 16)]   # once per stored tensor, in file order
    if not G.cuda.is_available():
        want, _ = both(saved_from("cpu", STATE), {"cpu": "cuda:0"})
        buf.seek(0)
        with pytest.raises(type(want), match="Attempting to deserialize object on a CUDA"):
            G.load(buf, map_location={"cpu": "cuda:0"})


# --- shared storage ---------------------------------------------------------------------------


def _views(lib):
    t = lib.arange(12.0)
    # whole storage, a slice, a transposed view, two overlapping slices, a 0-d element
    return [t, t[1:3], t.view(3, 4).t(), t[2:8].view(2, 3), t[5:9], t[4]]


def _mutate(tensors, index, compiled):
    """In-place changes through one tensor of the list: eager, or in a compiled function."""
    def step(a):
        a.mul_(10)
        a.add_(1)
    run = G.compile(step) if compiled else step   # NOTE: fresh per call (see the report)
    run(tensors[index])


def _torch_roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf.getvalue(), torch.load(buf)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("writer", ["torch", "graphnet"])
def test_views_saved_together_share_after_loading(writer, index, compiled):
    data, want = _torch_roundtrip(_views(torch))
    if writer == "torch":
        got = G.load(io.BytesIO(data))
    else:
        buf = io.BytesIO()
        G.save(_views(G), buf)
        buf.seek(0)
        got = G.load(buf)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    want[index].mul_(10).add_(1)
    _mutate(got, index, compiled)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("writer", ["torch", "graphnet"])
def test_tied_weights_share_after_loading(writer, compiled):
    def model(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Linear(3, 3))
        m[1].weight = m[0].weight
        return m
    tm = model(torch)
    data, want = _torch_roundtrip(tm.state_dict())
    if writer == "torch":
        got = G.load(io.BytesIO(data))
    else:
        gm = model(G)
        gm.load_state_dict({k: G.tensor(v.numpy()) for k, v in tm.state_dict().items()})
        buf = io.BytesIO()
        G.save(gm.state_dict(), buf)
        buf.seek(0)
        got = G.load(buf)
    assert want["0.weight"].untyped_storage().data_ptr() == \
        want["1.weight"].untyped_storage().data_ptr()
    want["1.weight"].mul_(10).add_(1)
    _mutate([got["1.weight"]], 0, compiled)
    for key in want:
        np.testing.assert_allclose(got[key].numpy(), want[key].numpy(), rtol=1e-6)
    got["0.weight"].zero_()
    np.testing.assert_array_equal(got["1.weight"].numpy(), np.zeros((3, 3), np.float32))


def test_tensors_that_stopped_sharing_are_saved_apart():
    """A view whose source took other storage (`x.data = ...`) keeps its own values: the
    sharing graphnet.save writes is checked against the values, never assumed."""
    tx, gx = torch.arange(6.0), G.arange(6.0)
    tv, gv = tx[1:3], gx[1:3]
    tx.data, gx.data = torch.full((6,), 7.0), G.full((6,), 7.0)
    _, want = _torch_roundtrip([tx, tv])
    buf = io.BytesIO()
    G.save([gx, gv], buf)
    buf.seek(0)
    got = G.load(buf)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    got[1].fill_(-1)
    want[1].fill_(-1)
    np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())


def test_files_without_sharing_stay_version_1():
    buf = io.BytesIO()
    G.save({"a": G.ones(2), "b": G.ones(3)}, buf)
    buf.seek(0)
    assert _format.read_header(buf, "f").metadata["version"] == "1"


@pytest.mark.parametrize("view", [["s", 4, [3], [1]],         # past the end
                                  ["s", 0, [100000, 6], [0, 1]],   # repeats past the bound
                                  ["nope", 0, [1], [1]],      # no such storage
                                  ["s", -1, [1], [1]],
                                  ["s", 0, [1, 1], [1]]])
def test_hostile_views_are_refused(view):
    buf = io.BytesIO()
    structure = json.dumps({"list": [{"tensor": "v"}]})
    _format.write(buf, {"s": np.arange(6, dtype=np.float32)},
                  {"format": "graphnet", "version": "2", "structure": structure,
                   "views": json.dumps({"v": view})})
    buf.seek(0)
    with pytest.raises(CheckpointError, match="view 'v'"):
        G.load(buf)
