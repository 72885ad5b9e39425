"""graphnet.save / graphnet.load: round trips, torch.save files, refusals, atomic writes."""

from __future__ import annotations

import io
import math
import os
import struct
import zipfile
from collections import OrderedDict

import ml_dtypes
import numpy as np
import pytest

import graphnet
from graphnet import _serialization as ser
from graphnet._serialization import CheckpointError, _format, _torch_reader

RNG = np.random.default_rng(0)


def tensor(a) -> object:
    """A graphnet tensor holding exactly ``a`` (through the same bridge load uses)."""
    return ser._from_numpy(np.asarray(a))


def assert_same(t: object, expected: np.ndarray) -> None:
    """Same dtype, shape and bytes (bit-exact, also for bfloat16)."""
    actual = np.asarray(ser._to_numpy(t))
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert actual.tobytes() == np.ascontiguousarray(expected).tobytes()


# --- round trips -----------------------------------------------------------------------------


def model_state() -> OrderedDict:
    arrays = OrderedDict([
        ("conv.weight", RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)),
        ("bn.running_var", RNG.random(4)),  # float64
        ("bn.num_batches_tracked", np.array(7, np.int64)),  # 0-d
        ("emb.weight", RNG.standard_normal((5, 2)).astype(np.float16)),
        ("head.weight", RNG.standard_normal((2, 3)).astype(ml_dtypes.bfloat16)),
        ("mask", np.array([True, False, True])),
        ("ids", np.arange(-3, 3, dtype=np.int32)),
        ("q", np.array([-128, 0, 127], np.int8)),
        ("pixels", np.array([[0, 255]], np.uint8)),
        ("empty", np.zeros((0, 3), np.float32)),
    ])
    return arrays


def test_round_trip_model_state_dict(tmp_path):
    arrays = model_state()
    graphnet.save(OrderedDict((k, tensor(a)) for k, a in arrays.items()), tmp_path / "m.safetensors")
    loaded = graphnet.load(tmp_path / "m.safetensors")
    assert list(loaded) == list(arrays)
    for key, array in arrays.items():
        assert isinstance(loaded[key], graphnet.Tensor)
        assert_same(loaded[key], array)


def test_round_trip_graphnet_model_and_optimizer(tmp_path):
    model = graphnet.nn.Linear(3, 2)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(graphnet.ones(1, 3)).sum().backward()
    opt.step()
    # A raw Parameter (requires_grad=True) is saved as its data, like torch.save does.
    graphnet.save({"model": model.state_dict(), "optim": opt.state_dict(), "w": model.weight}, tmp_path / "c.st")
    loaded = graphnet.load(tmp_path / "c.st")
    fresh = graphnet.nn.Linear(3, 2)
    fresh.load_state_dict(loaded["model"])
    assert_same(fresh.weight, model.weight.detach().numpy())
    assert_same(loaded["w"], model.weight.detach().numpy())
    momentum = opt.state_dict()["state"][0]["momentum_buffer"]
    assert_same(loaded["optim"]["state"][0]["momentum_buffer"], momentum.numpy())
    assert loaded["optim"]["param_groups"] == opt.state_dict()["param_groups"]


def test_round_trip_optimizer_state_dict(tmp_path):
    buf0, buf1 = RNG.standard_normal((3, 2)).astype(np.float32), RNG.standard_normal(2).astype(np.float32)
    groups = [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1], "nesterov": False,
               "foreach": None, "name": "decay", "max_norm": float("inf"), "big": 2**70}]
    state = {"state": {0: {"momentum_buffer": tensor(buf0)}, 1: {"momentum_buffer": tensor(buf1)}},
             "param_groups": groups, "mixed_keys": {0: "int", "0": "str"}, "nan": float("nan")}
    path = str(tmp_path / "opt.safetensors")
    graphnet.save(state, path)
    loaded = graphnet.load(path)
    assert list(loaded["state"]) == [0, 1]  # int keys stay ints
    assert_same(loaded["state"][0]["momentum_buffer"], buf0)
    assert_same(loaded["state"][1]["momentum_buffer"], buf1)
    assert loaded["param_groups"] == groups
    assert type(loaded["param_groups"][0]["betas"]) is tuple and type(loaded["param_groups"][0]["params"]) is list
    assert loaded["mixed_keys"] == {0: "int", "0": "str"}
    assert math.isnan(loaded["nan"])


def test_shared_tensor_is_stored_once_and_keys_with_slashes_stay_apart(tmp_path):
    shared = tensor(np.arange(3, dtype=np.float32))
    obj = {"enc": shared, "dec": shared, "a/b": tensor([1.0]), "a": {"b": tensor([2.0])}}
    graphnet.save(obj, tmp_path / "s.safetensors")
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    assert sorted(safetensors_numpy.load_file(tmp_path / "s.safetensors")) == ["a/b", "a/b#1", "enc"]
    loaded = graphnet.load(tmp_path / "s.safetensors")
    assert loaded["enc"] is loaded["dec"]
    assert_same(loaded["a/b"], np.array([1.0]))
    assert_same(loaded["a"]["b"], np.array([2.0]))


def test_file_is_plain_safetensors_and_file_objects_work(tmp_path):
    w = RNG.standard_normal((2, 2)).astype(np.float32)
    buffer = io.BytesIO()
    graphnet.save({"w": tensor(w), "step": 3}, buffer)
    (tmp_path / "f.safetensors").write_bytes(buffer.getvalue())
    safetensors = pytest.importorskip("safetensors")
    with safetensors.safe_open(tmp_path / "f.safetensors", "np") as f:
        assert f.metadata()["format"] == "graphnet" and f.metadata()["version"] == "1"
        np.testing.assert_array_equal(f.get_tensor("w"), w)
    buffer.seek(0)
    loaded = graphnet.load(buffer)
    assert loaded["step"] == 3
    assert_same(loaded["w"], w)


@pytest.mark.parametrize(("obj", "message"), [
    ({"x": object()}, r"object at obj\['x'\]"),
    ({"x": [1, np.int64(3)]}, r"int64 at obj\['x'\]\[1\]"),
    ({True: 1}, "dict key True"),
    ({(1, 2): 1}, r"dict key \(1, 2\)"),
])
def test_save_refuses_unsupported_values_before_writing(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        graphnet.save(obj, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_interrupted_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    graphnet.save({"w": tensor(np.array([1.0, 2.0], np.float32)), "b": tensor(np.array([3.0], np.float32))}, path)
    before = path.read_bytes()
    real_write, calls = _format._write_tensor_bytes, []

    def fail_on_second_tensor(f, data):
        calls.append(data)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        real_write(f, data)

    monkeypatch.setattr(_format, "_write_tensor_bytes", fail_on_second_tensor)
    with pytest.raises(OSError, match="simulated"):
        graphnet.save({"w": tensor(np.zeros(2, np.float32)), "b": tensor(np.zeros(1, np.float32))}, path)
    assert len(calls) == 2  # it really failed halfway, after one tensor was written
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # temp file removed
    assert_same(graphnet.load(path)["w"], np.array([1.0, 2.0], np.float32))


# --- refusals of damaged or foreign files ----------------------------------------------------


def test_load_refuses_truncated_files(tmp_path):
    graphnet.save({"w": tensor(np.ones((4, 4), np.float32))}, tmp_path / "full.safetensors")
    data = (tmp_path / "full.safetensors").read_bytes()
    for cut in (0, 5, 12, len(data) - 64, len(data) - 1):
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=f"cannot load '{path}'.*(short|truncated)"):
            graphnet.load(path)


@pytest.mark.parametrize("content", [RNG.bytes(4096), struct.pack("<Q", 16) + RNG.bytes(64), b""])
def test_load_refuses_random_bytes(tmp_path, content):
    (tmp_path / "junk.bin").write_bytes(content)
    with pytest.raises(CheckpointError, match="junk.bin"):
        graphnet.load(tmp_path / "junk.bin")


def test_load_refuses_foreign_safetensors(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    safetensors_numpy.save_file({"w": np.ones(3, np.float32)}, tmp_path / "hf.safetensors")
    with pytest.raises(CheckpointError, match="not a graphnet checkpoint.*safetensors.numpy.load_file"):
        graphnet.load(tmp_path / "hf.safetensors")


def write_raw(path, structure: str, version: str = "1", arrays=None) -> None:
    with open(path, "wb") as f:
        _format.write(f, arrays or {}, {"format": "graphnet", "version": version, "structure": structure})


@pytest.mark.parametrize(("structure", "version", "arrays", "message"), [
    ("null", "99", None, "format version '99'.*upgrade graphnet"),
    ('{"tensor": "nope"}', "1", None, "refers to tensor 'nope'"),
    ('{"list": []}', "1", {"orphan": np.ones(1, np.float32)}, "never refers to.*orphan"),
    ('{"set": [1]}', "1", None, "malformed"),
    ("{not json", "1", None, "not valid JSON"),
])
def test_load_refuses_inconsistent_metadata(tmp_path, structure, version, arrays, message):
    write_raw(tmp_path / "bad.safetensors", structure, version, arrays)
    with pytest.raises(CheckpointError, match=message):
        graphnet.load(tmp_path / "bad.safetensors")


# --- torch.save files ------------------------------------------------------------------------


def torch_to_numpy(t) -> np.ndarray:
    torch = pytest.importorskip("torch")
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16; go through the raw bits
        return t.detach().contiguous().view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.detach().contiguous().numpy()


def test_loads_torch_save_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(3, 5, generator=gen)
    state = OrderedDict(
        transposed=base.t(), base=base, narrow=base[1:, 2:],  # shared storage, strides, offset
        f64=torch.randn(4, dtype=torch.float64, generator=gen), i64=torch.arange(-3, 3),
        mask=torch.tensor([True, False, True]), bf16=torch.randn(2, 3, generator=gen).bfloat16(),
        f16=torch.randn(3, generator=gen).half(), i32=torch.tensor([1, -2], dtype=torch.int32),
        i8=torch.tensor([-5], dtype=torch.int8), u8=torch.tensor([200], dtype=torch.uint8),
        scalar=torch.tensor(2.5), empty=torch.zeros(0, 4), grad=torch.ones(2, requires_grad=True),
    )
    assert not state["transposed"].is_contiguous()
    torch.save(state, tmp_path / "sd.pt")
    loaded = graphnet.load(tmp_path / "sd.pt")
    assert isinstance(loaded, dict) and list(loaded) == list(state)
    for key, t in state.items():
        assert_same(loaded[key], torch_to_numpy(t))


def test_loads_torch_optimizer_checkpoint_and_parameters(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3,
                "raw_param": model.weight}, tmp_path / "ckpt.pt")
    loaded = graphnet.load(tmp_path / "ckpt.pt")
    assert loaded["epoch"] == 3
    assert_same(loaded["raw_param"], torch_to_numpy(model.weight))  # via _rebuild_parameter
    assert_same(loaded["model"]["bias"], torch_to_numpy(model.bias))
    assert list(loaded["optim"]["state"]) == [0, 1]
    assert_same(loaded["optim"]["state"][0]["momentum_buffer"], torch_to_numpy(opt.state[model.weight]["momentum_buffer"]))
    assert loaded["optim"]["param_groups"][0]["lr"] == 0.1 and loaded["optim"]["param_groups"][0]["params"] == [0, 1]


def test_torch_reader_handles_untyped_storage_dtypes(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"u16": torch.tensor([[1, 65535], [7, 8]], dtype=torch.uint16).t()}, tmp_path / "u.pt")
    with open(tmp_path / "u.pt", "rb") as f:  # numpy level: the core has no uint16 tensors
        loaded = _torch_reader.load_torch_zip(f, "u.pt", from_numpy=lambda a: a)
    np.testing.assert_array_equal(loaded["u16"], np.array([[1, 7], [65535, 8]], np.uint16))


def test_load_refuses_legacy_and_truncated_torch_files(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="legacy"):
        graphnet.load(tmp_path / "old.pt")
    torch.save({"w": torch.ones(64)}, tmp_path / "new.pt")
    data = (tmp_path / "new.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt"):
        graphnet.load(tmp_path / "cut.pt")


# Hand-written pickles (protocol 2 opcodes), so no test depends on how torch pickles.
def p_global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def p_str(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def p_int(i: int) -> bytes:
    return b"J" + struct.pack("<i", i)


def p_tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def p_tensor(numel: int, offset: int, size: tuple, stride: tuple) -> bytes:
    """_rebuild_tensor_v2 of FloatStorage '0' with a hand-picked view."""
    storage = p_tuple(p_str("storage"), p_global("torch", "FloatStorage"), p_str("0"), p_str("cpu"), p_int(numel)) + b"Q"
    hooks = p_global("collections", "OrderedDict") + b")R"
    args = p_tuple(storage, p_int(offset), p_tuple(*map(p_int, size)), p_tuple(*map(p_int, stride)), b"\x89", hooks)
    return p_global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def torch_zip(path, pickled: bytes, storages: dict | None = None) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02" + pickled + b".")
        z.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)


def test_hand_built_torch_file_loads_and_bad_strides_are_refused(tmp_path):
    storage = {"0": np.arange(6, dtype=np.float32).tobytes()}
    torch_zip(tmp_path / "ok.pt", b"}" + p_str("w") + p_tensor(6, 1, (2, 2), (1, 3)) + b"s", storage)
    assert_same(graphnet.load(tmp_path / "ok.pt")["w"], np.array([[1, 4], [2, 5]], np.float32))
    torch_zip(tmp_path / "oob.pt", b"}" + p_str("w") + p_tensor(6, 2, (2, 2), (1, 3)) + b"s", storage)
    with pytest.raises(CheckpointError, match="reaches element 6 of a storage with 6 elements"):
        graphnet.load(tmp_path / "oob.pt")


@pytest.mark.parametrize(("module", "name", "args"), [
    ("os", "system", "touch {marker}"),
    ("posix", "system", "touch {marker}"),
    ("builtins", "eval", "open({marker!r}, 'w')"),
    ("subprocess", "getoutput", "touch {marker}"),
    ("my_project.models", "Net", "{marker}"),
])
def test_malicious_torch_pickle_is_refused_without_running(tmp_path, module, name, args):
    marker = tmp_path / "pwned"
    call = p_global(module, name) + p_tuple(p_str(args.format(marker=str(marker)))) + b"R"
    # The payload sits after a legitimate entry, as it would in a tampered checkpoint.
    pickled = b"}(" + p_str("w") + p_tensor(2, 0, (2,), (1,)) + p_str("evil") + call + b"u"
    torch_zip(tmp_path / "evil.pt", pickled, {"0": np.ones(2, np.float32).tobytes()})
    with pytest.raises(CheckpointError, match=rf"refers to {module}\.{name}, which is not on graphnet's allow-list"):
        graphnet.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_pickle_cannot_set_state_on_allowed_objects(tmp_path):
    # BUILD on the allowed _rebuild_tensor_v2 stand-in would otherwise let a file change its defaults.
    torch_zip(tmp_path / "build.pt", p_global("torch._utils", "_rebuild_tensor_v2") + b"}" + p_str("__defaults__") + b")sb")
    with pytest.raises(CheckpointError, match="tries to set state"):
        graphnet.load(tmp_path / "build.pt")


def test_zip_that_is_not_a_torch_file_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="not a torch.save file"):
        graphnet.load(tmp_path / "other.zip")


def test_load_takes_torch_loads_everyday_keywords(tmp_path):
    """`graphnet.load(f, map_location="cpu", weights_only=True)`, as checkpoint code passes
    to torch.load; before, any keyword raised TypeError. A mapping or function has nothing
    to map (graphnet's files keep no device) and is refused by name."""
    path = tmp_path / "m.safetensors"
    model = graphnet.nn.Linear(3, 2)
    graphnet.save({"model": model.state_dict(), "step": 3}, path)
    for kwargs in ({"map_location": "cpu", "weights_only": True},
                   {"map_location": graphnet.device("cpu"), "mmap": False},
                   {"weights_only": False}):
        state = graphnet.load(path, **kwargs)
        assert state["step"] == 3
        np.testing.assert_array_equal(state["model"]["weight"].numpy(),
                                      model.weight.detach().numpy())
        assert state["model"]["bias"].device == graphnet.device("cpu")
    # a dict of locations, as torch takes it: this file's tensors were saved from the CPU
    state = graphnet.load(path, map_location={"cuda:0": "cpu"})
    np.testing.assert_array_equal(state["model"]["weight"].numpy(),
                                  model.weight.detach().numpy())
