"""PyTorch's `_base` and `_is_view()`: a view's `_base` is the first tensor of its chain
that is no view (the root, for a view of a view); `.data`, `detach()`, copies, advanced
indexing and deep copies are no views. `_base` was graphnet's alias link, None for every
view, and `_is_view` was missing: code that clones a view before saving took the wrong path."""

import copy
import pickle

import pytest
import torch

import graphnet as gn


def _cases(lib):
    x = lib.arange(12.0).reshape(4, 3).requires_grad_()
    x = x.detach().requires_grad_()         # a leaf that is no view
    v = x[1:3]
    return x, {
        "slice": v, "slice of slice": v[0:1], "view": x.view(12), "t": x.t(),
        "reshape": x.reshape(12), "detach": x.detach(), "data": x.data, "advanced": x[[0, 1]],
        "expand": x[0].expand(2, 3), "split": x.split(2)[1], "detached view": v.detach(),
        "view's data": v.data, "view of detached": x.detach()[1:], "clone": x.clone(),
        "contiguous": x.contiguous(), "select": x[0], "unbind": x.unbind()[0],
        "narrow": x.narrow(0, 1, 2), "unsqueeze": x.unsqueeze(0), "diagonal": x.diagonal(),
    }


@pytest.mark.parametrize("name", sorted(_cases(torch)[1]))
def test_base_and_is_view_match_torch(name):
    def described(lib):
        x, cases = _cases(lib)
        t = cases[name]
        base = t._base
        kind = None if base is None else "x" if base is x else \
            "alias of x" if base.data_ptr() == x.data_ptr() and base.shape == x.shape else "other"
        return t._is_view(), kind

    assert described(gn) == described(torch)


def test_copies_are_no_views():
    y = gn.arange(6.0).reshape(2, 3)
    copied = copy.deepcopy([y, y[1]])
    assert copied[1]._base is None and not copied[1]._is_view()
    assert pickle.loads(pickle.dumps(y[1]))._base is None
    assert y[1]._base is y._base is not None      # both views of the arange result
