"""Older PyTorch spellings still common in user code, against torch 2.13: the legacy tensor
types (FloatTensor, LongTensor ...), Tensor(2, 3) sizes, and factories' size= keyword."""

import numpy as np
import pytest
import torch

import graphnet as G

TYPES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor", "BFloat16Tensor"]


@pytest.mark.parametrize("name", TYPES)
def test_legacy_type_constructs_and_checks_as_torch(name):
    want, got = getattr(torch, name), getattr(G, name)
    for args in [([1, 0, 2],), ((1.7, 2.2),), (2, 3), (), (np.ones(2),)]:
        w, g = want(*args), got(*args)
        assert tuple(g.shape) == tuple(w.shape) and str(g.dtype)[9:] == str(w.dtype)[6:]
        if args and not isinstance(args[0], int):
            np.testing.assert_array_equal(g.float().numpy(), w.float().numpy())
    other = G.int64 if got.dtype == G.float32 else G.float32
    assert isinstance(got([1]), got) and not isinstance(G.ones(1, dtype=other), got)
    assert G.ones(2).type(got).dtype == got.dtype


def test_legacy_type_of_a_tensor_is_an_alias_or_refused():
    x = G.ones(2, requires_grad=True)
    y = G.FloatTensor(x)
    assert y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    plain = G.ones(2)
    G.FloatTensor(plain)[0] = 5
    assert plain.tolist() == [5.0, 1.0]
    with pytest.raises(TypeError):
        torch.FloatTensor(torch.ones(2, dtype=torch.int64))
    with pytest.raises(TypeError):
        G.FloatTensor(G.ones(2, dtype=G.int64))


@pytest.mark.parametrize("args", [([1, 2],), (2, 3), (5,), (), ([True],)])
def test_tensor_class_takes_data_or_sizes(args):
    want, got = torch.Tensor(*args), G.Tensor(*args)
    assert tuple(got.shape) == tuple(want.shape) and got.dtype == G.float32
    if args and isinstance(args[0], list):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert tuple(G.Tensor(G.Size([2, 1])).shape) == (2, 1)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_the_size_keyword(name):
    assert tuple(getattr(G, name)(size=(2, 3)).shape) == (2, 3)
    assert tuple(getattr(G, name)(size=[4]).shape) == tuple(getattr(torch, name)(size=[4]).shape)
    with pytest.raises(TypeError):
        getattr(G, name)(2, size=(2,))
