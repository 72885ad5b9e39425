"""`uint16` and `uint64`, which PyTorch has (as it has uint32): `graphnet.uint16` was an
AttributeError, NumPy arrays of those types were refused, and a torch checkpoint holding such a
tensor could not be loaded. Like PyTorch's, they are storage types first: made, cast, indexed,
compared, summed (in int64), saved and loaded."""

import numpy as np
import pytest
import torch

import graphnet as gn

KINDS = ["uint16", "uint64"]


@pytest.mark.parametrize("name", KINDS)
def test_the_dtype_prints_and_describes_itself_as_pytorchs(name):
    g, t = getattr(gn, name), getattr(torch, name)
    assert repr(g) == f"graphnet.{name}"
    assert (g.is_signed, g.is_floating_point, g.itemsize) == \
        (t.is_signed, t.is_floating_point, t.itemsize)
    assert (gn.iinfo(g).min, gn.iinfo(g).max, gn.iinfo(g).bits) == \
        (torch.iinfo(t).min, torch.iinfo(t).max, torch.iinfo(t).bits)
    values = [1, 2, 300]
    x, y = gn.tensor(values, dtype=g), torch.tensor(values, dtype=t)
    assert repr(x) == repr(y).replace("torch", "graphnet")
    assert x.type() == y.type()


@pytest.mark.parametrize("name", KINDS)
def test_operations_pytorch_offers_on_them_match(name):
    values = np.array([5, 0, 65535, 7], dtype=name)

    def run(lib):
        x = lib.from_numpy(values.copy())
        return {
            "float": x.float().tolist(), "sum": (x.sum().item(), str(x.sum().dtype)),
            "mul": (x * 2).tolist(), "eq": (x == 7).tolist(), "xor": (x ^ x[1:2]).tolist(),
            "and": (x & 3).tolist(), "sorted": x.sort().values.tolist(),
            "slice": x[1:3].tolist(), "cat": lib.cat([x, x[:1]]).tolist(),
            "from float": lib.tensor([3.7, 9.0]).to(x.dtype).tolist(), "item": x[2].item(),
        }

    got, want = run(gn), run(torch)
    want["sum"] = (want["sum"][0], want["sum"][1].replace("torch", "graphnet"))
    assert got == want


@pytest.mark.parametrize("name", KINDS)
def test_numpy_arrays_of_them_become_tensors(name):
    array = np.array([[1, 2], [3, 40000]], dtype=name)
    for make in (gn.tensor, gn.from_numpy, gn.as_tensor):
        t = make(array)
        assert t.dtype == getattr(gn, name) and t.numpy().dtype == array.dtype
        np.testing.assert_array_equal(t.numpy(), array)


@pytest.mark.parametrize("name", KINDS)
def test_a_compiled_function_takes_them(name):
    fn = gn.compile(lambda x: (x.to(gn.int64) * 3).sum())
    assert fn(gn.tensor([1, 2, 3], dtype=getattr(gn, name))).item() == 18


def test_they_save_and_load(tmp_path):
    state = {"a": gn.tensor([1, 65535], dtype=gn.uint16),
             "b": gn.tensor([7, 2**40], dtype=gn.uint64)}
    gn.save(state, tmp_path / "u.pt")
    loaded = gn.load(tmp_path / "u.pt")
    for key, t in state.items():
        assert loaded[key].dtype == t.dtype and loaded[key].tolist() == t.tolist()
