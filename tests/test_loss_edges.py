"""Cross-entropy at its edges, eagerly and compiled, against PyTorch: probability targets get
a gradient (graphnet gave them none, so soft labels from a network that is not detached
stopped training), and a batch whose targets are all ignore_index has a NaN mean loss with a
zero gradient (graphnet's gradient was NaN, which poisoned the weights)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((3, 4)).astype(np.float32)
PROBS = RNG.dirichlet(np.ones(4), 3).astype(np.float32)


def _grads(lib, fn, compiled=False):
    x = lib.tensor(LOGITS, requires_grad=True)
    t = lib.tensor(PROBS, requires_grad=True)

    def step(x, t):
        loss = fn(lib.nn.functional, x, t)
        loss.backward()
        return loss

    loss = (graphnet.compile(step) if compiled else step)(x, t)
    value = lambda a: np.asarray(a.detach().numpy())   # noqa: E731
    return value(loss), value(x.grad), None if t.grad is None else value(t.grad)


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2}, {"reduction": "sum"}])
def test_probability_targets_get_torchs_gradient(options):
    fn = lambda F, x, t: F.cross_entropy(x, t.softmax(1), **options)   # noqa: E731
    want = _grads(torch, fn)
    for compiled in (False, True):
        got = _grads(graphnet, fn, compiled)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_gives_a_nan_loss_and_a_zero_gradient(loss):
    def fn(F, x, _):
        labels = (torch if F is torch.nn.functional else graphnet).tensor([-100, -100, -100])
        inputs = x if loss == "cross_entropy" else F.log_softmax(x, 1)
        return getattr(F, loss)(inputs, labels)

    want_loss, want_grad, _ = _grads(torch, fn)
    assert np.isnan(want_loss) and (want_grad == 0).all()
    for compiled in (False, True):
        got_loss, got_grad, _ = _grads(graphnet, fn, compiled)
        assert np.isnan(got_loss)
        np.testing.assert_array_equal(np.abs(got_grad), 0.0)
