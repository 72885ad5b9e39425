"""How `x[index]` reads an index, against PyTorch: a list that holds a slice, None, a tensor
or another list is a tuple of per-dimension indices; a uint8 tensor is a mask (with
PyTorch's deprecation warning). Before, `x[[idx]]` gained a leading dimension and a byte
mask was read as the row numbers 0 and 1, silently."""

import warnings

import numpy as np
import pytest
from parity import np_of, torch

import graphnet
from graphnet._errors import TraceError

INDICES = {
    "ints": lambda lib: [0, 2],
    "list_of_list": lambda lib: [[0, 2]],
    "list_of_tensor": lambda lib: [lib.tensor([0, 2])],
    "list_with_slice": lambda lib: [0, slice(None)],
    "list_slice_then_list": lambda lib: [slice(1, 3), [0, 1]],
    "list_with_none": lambda lib: [None, 0],
    "list_with_ellipsis": lambda lib: [..., 1],
    "two_tensors": lambda lib: [lib.tensor([0, 2]), lib.tensor([1, 5])],
    "nested_lists": lambda lib: [[0, 1], [2, 3]],
    "byte_rows": lambda lib: lib.tensor([1, 0, 1, 1], dtype=lib.uint8),
    "byte_rows_and_int": lambda lib: (lib.tensor([1, 0, 1, 1], dtype=lib.uint8), 1),
    "byte_columns": lambda lib: (slice(None), lib.tensor([1, 0, 1, 0, 0, 1], dtype=lib.uint8)),
}


def _source(lib):
    return lib.arange(24.0).reshape(4, 6)


@pytest.mark.parametrize("name", INDICES)
def test_reading_matches_torch(name):
    with warnings.catch_warnings(record=True) as torch_warned:
        warnings.simplefilter("always")
        want = _source(torch)[INDICES[name](torch)]
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        got = _source(graphnet)[INDICES[name](graphnet)]
    # PyTorch warns about a list read as a tuple, and about a byte mask; so does graphnet
    assert len(warned) == len(torch_warned)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(np_of(got), want.numpy())


@pytest.mark.parametrize("name", ["list_of_list", "list_of_tensor", "list_with_slice",
                                  "two_tensors"])
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
def test_a_list_of_indices_compiles_and_writes_like_torch(name):
    want = _source(torch)
    want[INDICES[name](torch)] = 5.0
    got = graphnet.compile(lambda x: x[INDICES[name](graphnet)] * 2)(_source(graphnet))
    np.testing.assert_array_equal(np_of(got), (_source(torch)[INDICES[name](torch)] * 2).numpy())
    written = _source(graphnet)
    written[INDICES[name](graphnet)] = 5.0
    np.testing.assert_array_equal(np_of(written), want.numpy())


def test_a_byte_mask_warns_writes_tensors_and_refuses_a_number_as_torch_does():
    mask = graphnet.tensor([1, 0, 1, 1], dtype=graphnet.uint8)
    with pytest.warns(UserWarning, match="indexing with dtype graphnet.uint8 is now deprecated"):
        _source(graphnet)[mask]
    x = _source(graphnet)
    x[mask] = graphnet.ones(3, 6) * 7
    want = _source(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want[torch.tensor([1, 0, 1, 1], dtype=torch.uint8)] = torch.ones(3, 6) * 7
    np.testing.assert_array_equal(np_of(x), want.numpy())
    with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
        x[mask] = 3.0
    with pytest.raises(TraceError, match="data-dependent shape"):
        graphnet.compile(lambda v, m: v[m])(_source(graphnet), mask)


WRITES = {
    "duplicate_rows": lambda lib, h, w: h.__setitem__(lib.tensor([0, 0, 2]),
                                                      h[lib.tensor([0, 0, 2])] + 1.0),
    "duplicate_columns_from_w": lambda lib, h, w: h.__setitem__(
        (slice(None), lib.tensor([1, 1])), h[:, lib.tensor([1, 1])] + w[:, :2] * 2),
    "broadcast_row_value": lambda lib, h, w: h.__setitem__(lib.tensor([1, 1]), w[0] * 3),
    "number_value": lambda lib, h, w: h.__setitem__((0, slice(1, 3)), 5.0),
    # the other overwriting writes: PyTorch's gradient of the source is a gather too
    "scatter_duplicates": lambda lib, h, w: h.scatter_(
        1, lib.tensor([[0, 0, 1, 1], [2, 2, 2, 2], [3, 0, 3, 0]]), w * 2),
    "scatter_number": lambda lib, h, w: h.scatter_(0, lib.tensor([[1, 1, 0, 2]]), 4.0),
    "index_copy_duplicates": lambda lib, h, w: h.index_copy_(0, lib.tensor([2, 2, 0]), w * 3),
    "put_duplicates": lambda lib, h, w: h.put_(lib.tensor([0, 0, -1, 5]), w[0] * 2),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", WRITES)
def test_index_put_gradients_match_torch_with_duplicates_and_broadcasting(name, compiled):
    """PyTorch's gradient of `h[idx] = v` gives v the cotangent at every position written,
    duplicates included (`h[[0, 0]] += 1` counts row 0 twice); JAX's gave a duplicate that
    lost the write nothing (row 0's gradient was half of PyTorch's). The same for scatter,
    index_copy and put, whose duplicates got 0."""
    x = np.array([[1.0, 0.0, 2.0, 3.0], [0.5, 2.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]],
                 np.float32)

    def loss(lib, w):
        h = w * 1.0
        WRITES[name](lib, h, w)
        return (h * lib.tensor(x + 1)).sum()

    tw = torch.tensor(x, requires_grad=True)
    want = loss(torch, tw)
    want.backward()
    w = graphnet.tensor(x, requires_grad=True)

    def step(w):
        out = loss(graphnet, w)
        out.backward()
        return out

    got = (graphnet.compile(step) if compiled else step)(w)
    np.testing.assert_allclose(float(got), float(want), rtol=1e-6)
    np.testing.assert_allclose(np_of(w.grad), tw.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32", "int32"])
def test_index_tensor_dtypes_as_torch(dtype):
    """int8 and int16 index tensors are refused, as PyTorch refuses them (graphnet read them
    as indices); int32 and int64 index."""
    def outcome(lib):
        try:
            return lib.arange(5.0)[lib.tensor([0, 2], dtype=getattr(lib, dtype))].tolist()
        except IndexError as err:
            return str(err)
    assert outcome(graphnet) == outcome(torch)
