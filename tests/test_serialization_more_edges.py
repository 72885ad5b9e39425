"""Checkpoint edges against PyTorch: a state_dict's `_metadata` survives graphnet.save (so a
strict load still misses `num_batches_tracked`), and an optimizer state whose scalars are
numbers (an older checkpoint's int 'step') loads as 0-d tensors and steps as in PyTorch."""

import json
import struct

import pytest
import torch

import graphnet
from graphnet._serialization import CheckpointError

OPTIMIZERS = ["Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adagrad", "Adadelta", "RMSprop",
              "ASGD", "Rprop", "SGD"]


def _after_load_from_numbers(L, name):
    """Two steps, a state_dict with its scalars as Python numbers, a fresh optimizer loading
    it, one more step: the loaded scalars and the weights after."""
    m = L.nn.Linear(2, 1)
    with L.no_grad():
        m.weight.copy_(L.tensor([[0.5, -0.25]]))
        m.bias.copy_(L.tensor([0.1]))
    kw = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.1}
    opt = getattr(L.optim, name)(m.parameters(), **kw)
    for _ in range(2):
        opt.zero_grad()
        m(L.ones(1, 2)).pow(2).sum().backward()
        opt.step()
    sd = opt.state_dict()
    for state in sd["state"].values():
        for key in ("step", "eta", "mu", "mu_product"):
            if key in state:
                state[key] = int(state[key].item()) if key == "step" else state[key].item()
    opt2 = getattr(L.optim, name)(m.parameters(), **kw)
    opt2.load_state_dict(sd)
    opt2.zero_grad()
    m(L.ones(1, 2)).pow(2).sum().backward()
    opt2.step()
    scalars = {k: (str(v.dtype).split(".")[-1], round(v.item(), 5))
               for k, v in opt2.state[m.weight].items() if v.dim() == 0}
    return scalars, [round(x, 5) for x in m.weight.flatten().tolist()]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_number_scalars_load_as_tensors(name):
    assert _after_load_from_numbers(graphnet, name) == _after_load_from_numbers(torch, name)


def test_number_step_under_float64_default():
    got = []
    for L in (torch, graphnet):
        old = L.get_default_dtype()
        L.set_default_dtype(L.float64)
        try:
            got.append(_after_load_from_numbers(L, "Adam"))
        finally:
            L.set_default_dtype(old)
    assert got[0] == got[1] and got[1][0]["step"][0] == "float64"


def _strict_miss(L, path, nested):
    bn = L.nn.Sequential(L.nn.Linear(3, 3), L.nn.BatchNorm1d(3))
    L.save({"model": bn.state_dict(), "epoch": 3} if nested else bn.state_dict(), path)
    loaded = L.load(path)
    sd = loaded["model"] if nested else loaded
    versions = {k: dict(v) for k, v in sd._metadata.items()}
    del sd["1.num_batches_tracked"]
    with pytest.raises(RuntimeError) as info:
        bn.load_state_dict(sd)
    return versions, str(info.value).splitlines()[1], type(sd).__name__


@pytest.mark.parametrize("nested", [False, True])
def test_state_dict_metadata_survives_save(tmp_path, nested):
    ours = _strict_miss(graphnet, tmp_path / "g.ckpt", nested)
    theirs = _strict_miss(torch, tmp_path / "t.pt", nested)
    assert ours == theirs


def test_plain_dicts_stay_plain(tmp_path):
    graphnet.save({"a": {"b": graphnet.ones(1)}}, tmp_path / "x.ckpt")
    loaded = graphnet.load(tmp_path / "x.ckpt")
    assert type(loaded) is dict and type(loaded["a"]) is dict


def _rewrite_metadata(path, key, value):
    """The file with its header's metadata `key` set to `value` (None: removed), checksums
    dropped (files without them load)."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"].pop("checksums", None)
    if value is None:
        header["__metadata__"].pop(key, None)
    else:
        header["__metadata__"][key] = value
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])


def test_files_without_dict_metadata_still_load(tmp_path):
    path = tmp_path / "old.ckpt"
    graphnet.save(graphnet.nn.BatchNorm1d(2).state_dict(), path)
    _rewrite_metadata(path, "dict_metadata", None)     # as an older graphnet wrote it
    loaded = graphnet.load(path)
    assert type(loaded) is dict and sorted(loaded) == ["bias", "num_batches_tracked",
                                                       "running_mean", "running_var", "weight"]


@pytest.mark.parametrize("bad", ['{"a": 1}', '[[["nowhere"], {"dict": []}]]',
                                 '[[[], {"dict": []}], [[], {"dict": []}]]', '[[[true], 1]]',
                                 '[[[], {"code": "os.system"}]]', "not json"])
def test_damaged_dict_metadata_is_refused(tmp_path, bad):
    path = tmp_path / "bad.ckpt"
    graphnet.save(graphnet.nn.BatchNorm1d(2).state_dict(), path)
    _rewrite_metadata(path, "dict_metadata", bad)
    with pytest.raises(CheckpointError):
        graphnet.load(path)
