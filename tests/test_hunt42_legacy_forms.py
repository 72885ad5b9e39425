"""Older PyTorch forms still accepted by torch 2.13: `FloatTensor(x.size())` is a tensor of that
shape (it was a 1-D tensor of the sizes, hidden by broadcasting), `FloatTensor(2.5)` raises,
and addmm/addbmm/baddbmm/addmv/addr take their deprecated scalars-first overloads (re-ID
code's `dist.addmm_(1, -2, x, y.t())`), eagerly and compiled."""
import warnings

import pytest
import torch

import graphnet as G


@pytest.mark.parametrize("make", [lambda L, x: L.FloatTensor(x.size()),
                                  lambda L, x: L.LongTensor(L.Size([4, 2]))])
def test_legacy_type_of_a_size_has_that_shape(make):
    want = make(torch, torch.zeros(4, 2))
    got = make(G, G.zeros(4, 2))
    assert tuple(got.shape) == tuple(want.shape) == (4, 2)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]


def test_legacy_type_of_a_number_raises():
    for lib in (torch, G):
        with pytest.raises(TypeError, match="data must be a sequence"):
            lib.FloatTensor(2.5)


X = [[1.0, 2.0], [3.0, 1.0], [0.0, 1.0]]
FORMS = {
    "addmm_ beta alpha": lambda L, M, x: M.clone().addmm_(1, -2, x, x.t()),
    "addmm beta": lambda L, M, x: M.addmm(0.5, x, x.t()),
    "torch.addmm": lambda L, M, x: L.addmm(1, M, -2, x, x.t()),
    "addbmm": lambda L, M, x: M.addbmm(0.5, 2, x[None], x.t()[None]),
    "baddbmm": lambda L, M, x: L.baddbmm(0.5, M[None], 2, x[None], x.t()[None]),
    "addmv": lambda L, M, x: M[0].addmv(0.5, 2, M, x[:, 0]),
    "addr_": lambda L, M, x: M.clone().addr_(0.5, 2, x[:, 0], x[:, 1]),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_scalars_first_overloads(form, compiled):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        M = torch.arange(9.0).reshape(3, 3)
        want = FORMS[form](torch, M, torch.tensor(X))
        run = (lambda M, x: FORMS[form](G, M, x))
        got = (G.compile(run) if compiled else run)(G.arange(9.0).reshape(3, 3), G.tensor(X))
    assert got.tolist() == want.tolist()


def test_the_overload_warns_once():
    from graphnet import _math_alpha

    _math_alpha._WARNED.discard("addr")      # once per process, as PyTorch's TORCH_WARN_ONCE
    with pytest.warns(UserWarning, match="overload of addr is deprecated"):
        G.zeros(2, 2).addr(1, 2, G.ones(2), G.ones(2))


def test_new_from_an_array_and_type_tensor():
    import numpy as np

    for lib in (torch, G):
        x = lib.tensor([1, 2])
        made = x.new(np.array([1.0, 2.0]))
        assert made.tolist() == [1, 2] and str(made.dtype).endswith("int64")
        assert str(x.type(lib.Tensor).dtype).endswith("float32")
