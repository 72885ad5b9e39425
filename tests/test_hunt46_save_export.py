"""Saving and exporting as PyTorch users do: overlapping views (expand, unfold) share values
with their base after a load, torch.save/torch.load's other arguments are accepted, and
saving a module, tracing with jit or reaching for onnx / ldl_factor says what to do."""

import io
import json
import struct

import pytest
import torch

import graphnet as gn
from graphnet._serialization import CheckpointError


def _round_trip(lib, make):
    base = lib.arange(6.0)
    views = make(base)
    buffer = io.BytesIO()
    lib.save([base, *views], buffer)
    buffer.seek(0)
    loaded, *back = lib.load(buffer)
    loaded.mul_(10)
    return [v.tolist() for v in back]


@pytest.mark.parametrize("make", [
    lambda b: [b.expand(2, 6)],
    lambda b: [b.unfold(0, 3, 1)],
    lambda b: [b[1:].expand(3, 5), b.unfold(0, 2, 2)],
    lambda b: [b.as_strided((4, 3), (1, 1), 0)],
])
def test_overlapping_views_share_values_after_a_load(make):
    assert _round_trip(gn, make) == _round_trip(torch, make)


def test_a_view_repeating_its_storage_without_bound_is_refused(tmp_path):
    path = tmp_path / "hostile.ckpt"
    base = gn.arange(3.0)
    gn.save([base, base.expand(2, 3)], path)
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header["__metadata__"]
    meta.pop("checksums", None)
    views = json.loads(meta["views"])
    name = next(iter(views))
    views[name][2], views[name][3] = [10 ** 6, 10 ** 6], [0, 0]   # 1e12 elements from 3
    meta["views"] = json.dumps(views)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])
    with pytest.raises(CheckpointError, match="repeats them more than 16 times"):
        gn.load(path)


def test_torch_save_and_load_arguments_are_accepted(tmp_path):
    state = {"w": gn.ones(2)}
    gn.save(state, tmp_path / "a.pt", _use_new_zipfile_serialization=True)
    gn.save(state, tmp_path / "b.pt", pickle_protocol=4, _use_new_zipfile_serialization=False)
    import pickle
    for name in ("a.pt", "b.pt"):
        back = gn.load(tmp_path / name, "cpu", pickle, encoding="latin1")
        assert back["w"].tolist() == [1.0, 1.0]
    for lib in (torch, gn):
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit "
                                               "pickle_module is specified"):
            lib.load(io.BytesIO(b""), pickle_module=pickle, weights_only=True)


def test_saving_a_module_or_optimizer_points_to_state_dict():
    model = gn.nn.Linear(2, 2)
    for obj in (model, gn.optim.SGD(model.parameters(), lr=0.1)):
        with pytest.raises(TypeError, match=r"save its \.state_dict\(\)"):
            gn.save(obj, io.BytesIO())
    with pytest.raises(TypeError, match=r"numpy scalar with \.item\(\)"):
        gn.save({"x": object()}, io.BytesIO())


def test_torchscript_names_explain_themselves():
    model = gn.nn.Sequential(gn.nn.Linear(2, 2))
    with pytest.warns(DeprecationWarning):
        traced = gn.jit.trace(model, gn.ones(1, 2))
    for name in ("save", "code", "graph"):
        with pytest.raises(AttributeError, match=f"has no attribute '{name}' .*no TorchScript"):
            getattr(traced, name)
    with pytest.raises(AttributeError, match=r"has no attribute 'other'$"):
        _ = model.other
    with pytest.raises(AttributeError, match="ONNX export .*StableHLO"):
        _ = gn.onnx
    with pytest.raises(AttributeError, match="Bunch-Kaufman"):
        _ = gn.linalg.ldl_factor
