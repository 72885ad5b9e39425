"""A custom Function whose backward calls `backward()` itself, compiled: on a graph of its
own leaves it gives PyTorch's gradients; reaching a module's parameters (eagerly it would
accumulate into their `.grad`) it is refused, and the parameters' `.grad` stay usable."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError


def _fn(lib, use_module: bool):
    class Implicit(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, f):
            ctx.save_for_backward(x)
            ctx.f = f
            return f(x) if use_module else x.tanh() * 2.0

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            with lib.enable_grad():
                xx = x.detach().requires_grad_()
                y = ctx.f(xx) if use_module else xx.tanh() * 2.0
                y.backward(g)
            return xx.grad, None

    return Implicit


X = np.array([[0.3, -1.2, 0.7], [1.5, 0.1, -0.4]], np.float32)


def test_backward_on_its_own_leaves_matches_torch():
    tx = torch.tensor(X, requires_grad=True)
    (_fn(torch, False).apply(tx, None) ** 2).sum().backward()
    fn = _fn(gn, False)

    def step(x):
        loss = (fn.apply(x, None) ** 2).sum()
        loss.backward()
        return loss

    fast = gn.compile(step)
    for _ in range(2):
        gx = gn.tensor(X, requires_grad=True)
        fast(gx)
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5)


def test_backward_reaching_parameters_is_refused_and_grads_stay_usable():
    fn, lin = _fn(gn, True), gn.nn.Linear(3, 3)
    lin.weight.grad = gn.ones(3, 3)

    def step(x):
        loss = fn.apply(x, lin).pow(2).sum()
        loss.backward()
        return loss

    with pytest.raises(TraceError, match="called backward"):
        gn.compile(step)(gn.tensor(X, requires_grad=True))
    np.testing.assert_array_equal(lin.weight.grad.numpy(), np.ones((3, 3), np.float32))
    assert lin.bias.grad is None
    step(gn.tensor(X, requires_grad=True))     # eagerly it runs, as PyTorch's
    assert float(lin.bias.grad.abs().sum()) > 0
