"""The straight-through estimator, `hard + (soft - hard).detach()`-style, compiled: its value
is exactly `hard` in PyTorch. A `soft` made by a product (softmax, `normalize`, a scaled
value) was contracted by XLA-CPU into the final add as a fused multiply-add, unrounded, so the
result was off by its rounding error: 0 became -1.3e-8, and `log(y + 1e-9)` of a hard
SoftSort permutation NaN from the first step (compiler/cancelling.py `_added_back`)."""

import numpy as np
import pytest
import torch

import graphnet as gn

X = np.random.RandomState(0).randn(6, 9).astype(np.float32) * 3


def _cases(lib):
    F = lib.nn.functional

    def soft_hard(s):
        soft = s.softmax(-1)
        hard = lib.zeros_like(soft).scatter_(-1, soft.argmax(-1, keepdim=True), 1.0)
        return (hard - soft).detach() + soft

    def vector_quantised(s):
        z = F.normalize(s, dim=-1)
        return z + (z.round() - z).detach()

    def rounded(s):
        x = s * 0.37
        return x + (lib.round(x * 4) / 4 - x).detach()

    def subtracted(s):
        p = lib.sigmoid(s) * s
        return p - (p - (p > 0).float()).detach()

    return {"soft_hard": soft_hard, "vector_quantised": vector_quantised, "rounded": rounded,
            "subtracted": subtracted}


@pytest.mark.parametrize("name", sorted(_cases(torch)))
def test_a_compiled_straight_through_value_is_exactly_torchs(name):
    t = torch.tensor(X, requires_grad=True)
    want = _cases(torch)[name](t)
    want.square().sum().backward()
    g = gn.tensor(X, requires_grad=True)
    got = gn.compile(_cases(gn)[name])(g)
    got.square().sum().backward()
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_a_hard_permutation_under_a_log_stays_finite():
    def loss(s):
        soft = (s.unsqueeze(-1) - s.unsqueeze(-2)).abs().neg().softmax(-1)
        hard = gn.zeros_like(soft)
        hard.scatter_(-1, soft.argmax(-1, keepdim=True), 1.0)
        y = (hard - soft).detach() + soft
        return y.min(), gn.log(y + 1e-9).sum()

    s = gn.tensor(np.random.RandomState(0).randn(3, 7).astype(np.float32) * 3)
    low, total = gn.compile(loss)(s)
    want_low, want_total = loss(s)
    assert low.item() == 0.0 == want_low.item()
    assert total.item() == pytest.approx(want_total.item(), rel=1e-6)
