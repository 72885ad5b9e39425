"""A tensor the traced code made and kept only on a custom Function's `ctx` is not state
the next call must read (thirty-fourth session's domain-adaptation hunt): a gradient
reversal step `GRL.apply(x, lin.lam * 1.0)` traced again on every call, and after eight
fell back to eager. One the code also keeps elsewhere still gets its values."""

import numpy as np
import pytest
import torch

import graphnet as gn

_X = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)


def _grl(L):
    class Reverse(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, lam):
            ctx.lam = lam
            return x.clone()

        @staticmethod
        def backward(ctx, grad):
            return -ctx.lam * grad, None

    return Reverse


def _train(L, compile_, kept=None):
    lin = L.nn.Linear(3, 2)
    with L.no_grad():
        lin.weight.copy_(L.tensor([[0.2, -0.4, 0.6], [0.5, 0.1, -0.3]]))
        lin.bias.zero_()
    lin.register_buffer("lam", L.tensor(0.5))
    opt = L.optim.SGD(lin.parameters(), lr=0.1)
    reverse = _grl(L)

    def step(x):
        opt.zero_grad()
        lam = lin.lam * 1.0
        if kept is not None:
            kept.append(lam)
        loss = reverse.apply(lin(x), lam).pow(2).sum()
        loss.backward()
        opt.step()
        return loss

    step = compile_(step)
    losses = []
    for i in range(4):
        losses.append(float(step(L.tensor(_X))))
        with L.no_grad():
            lin.lam.fill_(0.5 + 0.25 * (i + 1))
    return losses, lin.weight.detach().numpy().copy(), step


def test_a_ctx_tensor_does_not_make_every_call_trace_again():
    expected, weight0, _ = _train(torch, lambda f: f)
    losses, weight, step = _train(gn, gn.compile)
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    np.testing.assert_allclose(weight, weight0, rtol=1e-5, atol=1e-6)
    assert step.explain()["graphs"] == 1


@pytest.mark.filterwarnings("ignore")
def test_a_ctx_tensor_kept_elsewhere_too_gets_its_values():
    kept0, kept = [], []
    _train(torch, lambda f: f, kept0)
    _train(gn, gn.compile, kept)
    assert [float(t) for t in kept] == [float(t) for t in kept0]
