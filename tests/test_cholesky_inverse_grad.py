"""cholesky_inverse's gradient is PyTorch's on the whole matrix: the forward reads one
triangle, the gradient is that of (L L^T)^-1, nonzero on the other triangle too. Before,
graphnet's (JAX's, through the triangular solve) was zero there, silently."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet as G


def _factor(batch, upper):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((*batch, 3, 3))
    spd = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    lower = np.linalg.cholesky(spd)
    return np.swapaxes(lower, -1, -2) if upper else lower


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("batch", [(), (2,)])
@pytest.mark.parametrize("compiled", [False, True])
def test_values_and_gradients_match_torch(upper, batch, compiled):
    factor = _factor(batch, upper)
    weights = np.arange(9.0).reshape(3, 3) - 4

    def loss(lib, f):
        out = lib.cholesky_inverse(f, upper=upper)
        return out, (out * lib.tensor(weights, dtype=out.dtype)).sum()

    t = torch.tensor(factor, requires_grad=True)
    t_out, t_loss = loss(torch, t)
    t_loss.backward()

    def step(f):
        out, total = loss(G, f)
        total.backward()
        return out

    g = G.tensor(factor, requires_grad=True)
    g_out = (G.compile(step) if compiled else step)(g)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
