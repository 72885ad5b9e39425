"""A weight written through `.data` between the forward and backward() (an EMA update placed
before the backward; thirty-third session's distillation hunt). PyTorch's backward reads the
weight's new values wherever it saved the weight or a view of it (`linear`'s `weight.t()`,
`x @ w.t()`); graphnet's compiled `linear` and eager `x @ w.t()` read the old ones."""

import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError

_W = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def _step(L, op, x, w, keep_view=False):
    view = w.t() if keep_view else None
    out = op(L, x, w if view is None else view).sum()
    w.data.mul_(0.5)            # written through `.data`: no version bump, new values
    out.backward()
    return out.detach()


_OPS = {
    "linear": lambda L, x, w: L.nn.functional.linear(x, w),
    "mm_t": lambda L, x, w: x @ w.t(),
    "mm_T": lambda L, x, w: L.mm(x, w.T),
}


def _grads(L, name, compiled=False, keep_view=False):
    w = L.tensor(_W, requires_grad=True)
    x = L.tensor([[1.0, 1.0, 1.0]], requires_grad=True)
    op = _OPS[name]
    if keep_view:
        def op(L, x, wt):
            return x @ wt
    step = (lambda x: _step(L, op, x, w, keep_view))
    (gn.compile(step) if compiled else step)(x)
    return x.grad.tolist(), w.grad.tolist()


@pytest.mark.parametrize("name", sorted(_OPS))
def test_eager_backward_reads_the_written_weight_as_torch(name):
    assert _grads(gn, name) == _grads(torch, name)


def test_eager_backward_reads_a_held_view_of_the_written_weight():
    assert _grads(gn, "mm_t", keep_view=True) == _grads(torch, "mm_t", keep_view=True)


def test_compiled_linear_reads_the_written_weight_as_torch():
    assert _grads(gn, "linear", compiled=True) == _grads(torch, "linear")


@pytest.mark.parametrize("name", ["mm_t", "mm_T"])
def test_compiled_backward_through_a_view_of_a_written_weight_refuses(name):
    with pytest.raises(TraceError, match="saved a view of a tensor written through"):
        _grads(gn, name, compiled=True)


def test_data_replaced_not_written_keeps_the_views_old_values():
    # `w.data = ...` gives w other storage: torch's saved `w.t()` keeps the old values
    def run(L):
        w = L.tensor(_W, requires_grad=True)
        x = L.tensor([[1.0, 1.0, 1.0]], requires_grad=True)
        out = (x @ w.t()).sum()
        w.data = w.data * 0.5
        out.backward()
        return x.grad.tolist()

    assert run(gn) == run(torch)
