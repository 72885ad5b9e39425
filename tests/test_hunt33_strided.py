"""Strided views (thirty-third session's masked-ops hunt): `as_strided` of a leaf that is
itself a view of a storage needing no gradient (`arange(12.).reshape(3, 4)
.requires_grad_()`) read that storage and gave the leaf no gradient; `view(dtype)` of the
same itemsize forced the last stride to 1; `index_fill` took a 1-element 1-d value where
PyTorch raises."""

import pytest
import torch

import graphnet as gn


def _strided_terms(L, x):
    return (x * 2).sum() + x.as_strided((2, 2), (1, 1), 1).sum() \
        + x.t().as_strided((2,), (4,)).sum()


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
@pytest.mark.parametrize("make", [lambda L: L.arange(12.0).reshape(3, 4),
                                  lambda L: L.zeros(12).view(3, 4) + 0,
                                  lambda L: L.arange(12.0).view(3, 4)])
def test_as_strided_of_a_view_leaf_reaches_its_gradient(make, compile_):
    expected = make(torch).requires_grad_()
    _strided_terms(torch, expected).backward()
    x = make(gn).requires_grad_()
    compile_(lambda x: _strided_terms(gn, x))(x).backward()
    assert x.grad.tolist() == expected.grad.tolist()


def test_view_dtype_of_the_same_itemsize_keeps_the_strides():
    for T in (torch, gn):
        x = T.arange(12.0).reshape(3, 4)
        y = x.t().view(T.int32)
        assert y.stride() == (1, 4) and y.t().is_contiguous()
        assert y.t().reshape(-1).tolist() == x.view(T.int32).reshape(-1).tolist()


def test_index_fill_refuses_a_value_with_dimensions_as_torch():
    x = gn.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        x.index_fill(0, gn.tensor([0]), gn.tensor([-2.0]))
    assert x.index_fill(0, gn.tensor([0]), gn.tensor(-2.0))[0].tolist() == [-2.0] * 4
