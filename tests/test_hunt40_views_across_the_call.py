"""A compiled call's backward refuses, as PyTorch's does, when a tensor its ops saved was
written through a view after the call: a returned view of a saved output (`exp(...)[1:]`,
then `out[0] = 1`), or the base of a temporary view passed in (`f(xb[1:], w)`, then
`xb[2] = 3`). Both gave a gradient of the old values, silently."""
import numpy as np
import pytest
import torch

import graphnet as G

MODIFIED = "modified by an inplace operation"
VIEWS = {"slice": lambda t: t[1:], "t": lambda t: t.t(), "column": lambda t: t[:, 0],
         "flat": lambda t: t.view(-1)}


def _returned_view(lib, view, compiled):
    rng = np.random.RandomState(0)
    x = lib.tensor(rng.randn(4, 3).astype(np.float32))
    w = lib.tensor(rng.randn(3, 3).astype(np.float32), requires_grad=True)

    def f(x, w):
        return view((x @ w).exp())

    out = (G.compile(f) if compiled else f)(x, w)
    with lib.no_grad():
        out[(0,) * out.dim()] = 1.0
    out.sum().backward()


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("lib,compiled", [(torch, False), (G, False), (G, True)],
                         ids=["torch", "dynamic", "static"])
def test_writing_a_returned_view_of_a_saved_output_raises(lib, compiled, view):
    with pytest.raises(RuntimeError, match=MODIFIED):
        _returned_view(lib, VIEWS[view], compiled)


@pytest.mark.parametrize("lib,compiled", [(torch, False), (G, False), (G, True)],
                         ids=["torch", "dynamic", "static"])
def test_writing_the_base_of_a_temporary_view_argument_raises(lib, compiled):
    rng = np.random.RandomState(1)
    xb = lib.tensor(rng.randn(5, 3).astype(np.float32))
    w = lib.tensor(rng.randn(3, 2).astype(np.float32), requires_grad=True)

    def f(x, w):
        return x @ w

    out = (G.compile(f) if compiled else f)(xb[1:], w)
    with lib.no_grad():
        xb[2] = 3.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.sum().backward()


def test_an_unwritten_returned_view_still_backpropagates():
    w = G.ones(3, 3, requires_grad=True)
    out = G.compile(lambda x, w: (x @ w).exp()[1:])(G.ones(4, 3) * 0.1, w)
    out.sum().backward()
    assert np.isfinite(w.grad.numpy()).all() and float(w.grad.abs().sum()) > 0
