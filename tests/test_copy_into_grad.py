"""`dst.copy_(src)` is differentiable in PyTorch (CopyBackwards): the gradient of `dst` after
the copy reaches `src`, whatever `src` is (a leaf Parameter, a non-leaf, another dtype, a
smaller shape broadcast), into a whole tensor or into a view, eagerly and compiled."""

import numpy as np
import pytest
from parity import assert_close, torch

import graphnet

W = [1.0, 2.0, 3.0]
X = np.arange(6.0, dtype=np.float32).reshape(2, 3)


def _program(L, w, x):
    buf = L.zeros(3)
    buf.copy_(w)                                  # a leaf source, same shape and dtype
    grid = L.zeros(2, 3)
    grid.copy_(w * 2)                             # broadcast from a non-leaf
    h = x * 1
    h[0].copy_(w.double())                        # another dtype, into a view of a non-leaf
    part = L.zeros(4)
    part[1:].copy_(w)                             # into a view of a plain tensor
    weights = L.tensor([1.0, -2.0, 3.0])
    return ((buf * weights).sum() + (grid * grid).sum() + (h * h).sum()
            + (part[1:] * weights).sum() * part[0].add(1))


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_copy_passes_the_gradient_to_its_source(compiled):
    grads = {}
    for L in (torch, graphnet):
        w = L.nn.Parameter(L.tensor(W))
        x = L.tensor(X, requires_grad=True)
        f = lambda w, x, L=L: _program(L, w, x)   # noqa: E731
        if L is graphnet and compiled:
            f = graphnet.compile(f)
        loss = f(w, x)
        loss.backward()
        grads[L] = (loss.detach(), w.grad, x.grad)
    for ours, theirs in zip(grads[graphnet], grads[torch]):
        assert_close(ours, theirs.numpy(), atol=1e-6)


def test_copy_node_is_copybackwards():
    w = graphnet.nn.Parameter(graphnet.tensor(W))
    assert graphnet.zeros(3).copy_(w).grad_fn.name() == "CopyBackwards"
    with graphnet.no_grad():
        assert graphnet.zeros(3).copy_(w).grad_fn is None
    assert not graphnet.zeros(3).copy_(graphnet.tensor(W)).requires_grad
