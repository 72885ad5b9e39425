"""Tensor.view(dtype) against torch 2.13: the bytes read as another dtype, shapes rescaled
along the last dimension, writes shared both ways, no gradient, PyTorch's errors. (Values of
every op are also compared in tests/op_cases_shape.py.)"""

import numpy as np
import pytest
import torch

import graphnet as G

PAIRS = [("float32", "int32"), ("float32", "uint8"), ("float32", "float16"),
         ("float16", "float32"), ("int64", "float64"), ("float32", "bfloat16"),
         ("bool", "uint8"), ("uint8", "bool"), ("int16", "int8"), ("float64", "int32")]


def _bytes(t):
    array = (t.float() if t.dtype in (torch.bfloat16, G.bfloat16) else t).numpy()
    return array if array.dtype == bool else array.view(np.uint8)


@pytest.mark.parametrize("source,target", PAIRS)
def test_view_dtype_reads_the_same_bytes(source, target):
    want = torch.tensor(np.random.RandomState(0).randn(2, 4) * 3).to(getattr(torch, source))
    got = G.tensor(want.numpy()).view(getattr(G, target))
    want = want.view(getattr(torch, target))
    assert tuple(got.shape) == tuple(want.shape) and got.dtype.name == target
    np.testing.assert_array_equal(_bytes(got), _bytes(want))


def test_view_dtype_shares_writes_both_ways():
    x, xt = G.zeros(4), torch.zeros(4)
    v, vt = x.view(G.int32), xt.view(torch.int32)
    v.add_(1)
    vt.add_(1)
    np.testing.assert_array_equal(x.numpy(), xt.numpy())
    x.fill_(1.5)
    xt.fill_(1.5)
    np.testing.assert_array_equal(v.numpy(), vt.numpy())
    h, ht = x.view(G.float16), xt.view(torch.float16)   # narrower: 8 halves
    h[1] = 2.0
    ht[1] = 2.0
    np.testing.assert_array_equal(x.numpy(), xt.numpy())


def test_view_dtype_has_no_gradient_and_compiles():
    w = G.randn(3, requires_grad=True)
    assert not w.view(G.int32).requires_grad and not w.view(G.float32).requires_grad

    def fn(x):   # |x| by clearing the sign bit, twice the value
        return (x.view(G.int32) & 0x7fffffff).view(G.float32) * 2
    x = G.tensor([-1.5, 2.0, -0.0])
    np.testing.assert_array_equal(G.compile(fn)(x).numpy(), [3.0, 4.0, 0.0])
    np.testing.assert_array_equal(fn(x).numpy(), [3.0, 4.0, 0.0])
    assert G.tensor([1.0, 2.0]).view(dtype=G.int32).tolist() == [1065353216, 1073741824]


@pytest.mark.parametrize("make,target", [
    (lambda T: T.randn(4, 2).t(), "float16"),      # last dim strided
    (lambda T: T.randn(3), "float64"),             # 3 floats are not whole doubles
    (lambda T: T.tensor(1.0), "float16"),          # 0-d
])
def test_view_dtype_errors_as_torch(make, target):
    with pytest.raises(RuntimeError) as want:
        make(torch).view(getattr(torch, target))
    with pytest.raises(RuntimeError) as got:
        make(G).view(getattr(G, target))
    assert str(got.value) == str(want.value)
