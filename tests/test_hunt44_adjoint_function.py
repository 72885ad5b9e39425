"""A custom Function whose backward re-runs its forward under `enable_grad()` and takes
`autograd.grad` of a saved parameter (the adjoint method of Neural ODEs): the saved tensor
requires grad in the backward as in PyTorch, in static mode too (it came back without it, and
the grad raised "One of the differentiated Tensors does not require grad")."""

import numpy as np
import pytest
import torch

import graphnet

_Y = np.array([0.5, -1.0, 2.0], np.float32)
_W = np.array([0.3, 0.7, -0.2], np.float32)


def _step_function(T, save_as):
    class Step(T.autograd.Function):
        @staticmethod
        def forward(ctx, y, w):
            if save_as == "saved_tensors":
                ctx.save_for_backward(y, w)
            else:
                ctx.save_for_backward(y)
                ctx.w = w
            return y + 0.1 * T.tanh(y * w)

        @staticmethod
        def backward(ctx, g):
            if save_as == "saved_tensors":
                y, w = ctx.saved_tensors
            else:
                (y,), w = ctx.saved_tensors, ctx.w
            with T.enable_grad():
                yy = y.detach().requires_grad_(True)
                out = yy + 0.1 * T.tanh(yy * w)
                gy, gw = T.autograd.grad(out, (yy, w), g)
            return gy, gw
    return Step


def _run(T, save_as, compiled=False):
    step_fn = _step_function(T, save_as)
    w = T.nn.Parameter(T.tensor(_W))

    def step(y):
        w.grad = None
        loss = step_fn.apply(step_fn.apply(y, w), w).pow(2).sum()
        loss.backward()
        return loss.detach()
    run = graphnet.compile(step) if compiled else step
    loss = run(T.tensor(_Y))
    return float(loss), w.grad.numpy().copy()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("save_as", ["saved_tensors", "attribute"])
def test_adjoint_style_backward(save_as, compiled):
    want_loss, want_grad = _run(torch, save_as)
    loss, grad = _run(graphnet, save_as, compiled)
    assert loss == pytest.approx(want_loss, rel=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-7)
