"""A write through `.detach()` or `.data` of a view reaches the tensor the view came from, as
PyTorch's shared storage gives (`a[1:].detach().add_(1)` changed only the view before, in
both modes). And a compiled call that writes an argument which is a leaf requiring grad
(under no_grad, through `.detach()` / `.data`) and then reads it: PyTorch's backward gives
the leaf the gradient at its new values; the program's VJP, taken outside the call, gave 0,
so that backward now refuses with a TraceError, while a backward inside the call and a read
of the old values only agree with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet
from graphnet._errors import TraceError

WRITES = {
    "slice_detach_add_": lambda lib, a, w: a[1:].detach().add_(100),
    "transpose_detach_mul_": lambda lib, a, w: a.t().detach().mul_(-1),
    "flat_view_detach_setitem": lambda lib, a, w: a.view(-1).detach().__setitem__(0, -1.0),
    "row_data_fill_": lambda lib, a, w: a[0].data.fill_(7),
    "parameter_row_detach_zero_": lambda lib, a, w: w[0].detach().zero_(),
}


@pytest.mark.parametrize("mode", ["dynamic", "static"])
@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_through_an_alias_of_a_view_reaches_the_base(name, mode):
    def run(lib, compiled):
        a = lib.arange(6.0).reshape(2, 3)
        w = lib.nn.Parameter(lib.ones(2, 2))

        def step(a):
            with lib.no_grad():
                WRITES[name](lib, a, w)
            return a.sum() + w.sum()

        fn = graphnet.compile(step) if compiled else step
        out = [float(fn(a)) for _ in range(2)]
        return out, np.asarray(a.tolist()), np.asarray(w.tolist())

    want = run(torch, False)
    got = run(graphnet, mode == "static")
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t)


def _leaf_written_then_read(lib, a):
    with lib.no_grad():
        a.clamp_(-1.0, 1.0)
    return (a * a).sum()


def _leaf_written_through_detach(lib, a):
    a.detach().mul_(2)
    return (a * a).sum()


def _leaf_read_before_the_write(lib, a):
    y = a * 3
    with lib.no_grad():
        a.zero_()
    return y.sum()


@pytest.mark.parametrize("body", [_leaf_written_then_read, _leaf_written_through_detach])
def test_backward_outside_a_call_that_rewrote_a_leaf_it_then_read_refuses(body):
    def grads(lib, compiled, inside):
        a = lib.tensor([0.5, -3.0, 2.0], requires_grad=True)

        def step(a):
            loss = body(lib, a)
            if inside:
                loss.backward()
            return loss

        loss = (graphnet.compile(step) if compiled else step)(a)
        if not inside:
            loss.backward()
        return np.asarray(a.grad.tolist())

    want = grads(torch, False, False)
    np.testing.assert_allclose(grads(graphnet, False, False), want)   # dynamic
    np.testing.assert_allclose(grads(graphnet, True, True), want)     # backward inside
    with pytest.raises(TraceError, match="leaf that requires grad, was written in place"):
        grads(graphnet, True, False)


def test_a_leaf_read_only_before_the_write_keeps_its_gradient_compiled():
    a, b = torch.tensor([1.0, 2.0], requires_grad=True), graphnet.tensor([1.0, 2.0],
                                                                         requires_grad=True)
    _leaf_read_before_the_write(torch, a).backward()
    graphnet.compile(lambda x: _leaf_read_before_the_write(graphnet, x))(b).backward()
    np.testing.assert_allclose(np.asarray(b.grad.tolist()), a.grad.numpy())
    np.testing.assert_allclose(np.asarray(b.tolist()), a.detach().numpy())
