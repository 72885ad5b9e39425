"""torch.func transforms inside graphnet.compile: a result requires grad exactly when it
depends on a tensor from outside the transform that does (as eagerly), not whenever any
tensor in the trace does."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _detached_grad(T, w):
    p = w.detach()
    return T.func.grad(lambda p: p.exp().sum())(p)


def _captured_grad(T, w, x):
    return T.func.grad(lambda x: (x * w).sin().sum())(x)


def _detached_jacrev(T, w):
    return T.func.jacrev(lambda p: p.tanh() * 2.0)(w.detach()[0])


@pytest.mark.parametrize("fn", [_detached_grad, _detached_jacrev])
def test_result_of_a_detached_input_does_not_require_grad(fn):
    w0 = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    tw = torch.tensor(w0, requires_grad=True)
    gw = gn.tensor(w0, requires_grad=True)
    want = fn(torch, tw)
    for got in (fn(gn, gw), gn.compile(lambda w: fn(gn, w))(gw)):
        assert got.requires_grad is False and got.grad_fn is None
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_result_depending_on_a_captured_parameter_stays_differentiable():
    w0 = np.array([0.3, -0.7, 1.1], np.float32)
    x0 = np.array([0.5, 0.2, -0.4], np.float32)
    tw = torch.tensor(w0, requires_grad=True)
    g = _captured_grad(torch, tw, torch.tensor(x0))
    g.pow(2).sum().backward()
    step = gn.compile(lambda w, x: _captured_grad(gn, w, x))
    for _ in range(2):
        gw = gn.tensor(w0, requires_grad=True)
        out = step(gw, gn.tensor(x0))
        assert out.requires_grad
        np.testing.assert_allclose(out.detach().numpy(), g.detach().numpy(), rtol=1e-6)
        out.pow(2).sum().backward()
        np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-5)
