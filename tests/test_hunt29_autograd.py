"""Autograd defects found by the twenty-ninth session's hunt, checked against PyTorch.

In compiled code, `backward(inputs=...)` and `autograd.backward([...])` replaced an existing
`.grad` with a new tensor (`t.grad + g`) where PyTorch's AccumulateGrad adds in place, so a
`.grad` the code held went stale; and they read `.grad` of a non-leaf `inputs=` tensor,
which warns."""

import warnings

import pytest
from parity import torch

import graphnet


def _program(lib):
    def f(w):
        (w * 2).sum().backward()
        held = w.grad
        (w * 3).sum().backward(inputs=[w])
        lib.autograd.backward([(w * 1).sum(), (w * 0).sum()])
        return held
    return f


@pytest.mark.parametrize("compiled", [False, True])
def test_backward_with_inputs_accumulates_into_the_held_grad(compiled):
    want_w = torch.ones(3, requires_grad=True)
    want = _program(torch)(want_w)
    w = graphnet.ones(3, requires_grad=True)
    f = _program(graphnet)
    held = (graphnet.compile(f) if compiled else f)(w)
    assert held.tolist() == want.tolist() == [6.0, 6.0, 6.0]
    assert w.grad.tolist() == want_w.grad.tolist()
    assert held is w.grad


@pytest.mark.parametrize("compiled", [False, True])
def test_backward_inputs_on_a_non_leaf_neither_warns_nor_differs(compiled):
    def f(lib, x):
        y = x * 2
        (y * y).sum().backward(inputs=[y])
        return y.grad
    want = f(torch, torch.ones(3, requires_grad=True))
    run = (lambda x: f(graphnet, x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = (graphnet.compile(run) if compiled else run)(graphnet.ones(3, requires_grad=True))
    assert got.tolist() == want.tolist() == [4.0, 4.0, 4.0]
