"""float_power's gradients are pow's PyTorch slopes: at a 0 base with a 0 exponent the base's
gradient is 0, where JAX's power gave NaN (0 * inf), so one zero node of a Vandermonde
kernel `float_power(z[:, None], arange(L))` made every gradient into it NaN. Found by the
state-space-model hunt."""

import numpy as np
import pytest
import torch

import graphnet

BASE = [0.0, 1.5, -2.0, 3.0, 0.0]
EXPONENTS = {"zero": 0, "two": 2, "half": 0.5, "negative": -1.5,
             "tensor": [0.0, 2.0, 0.0, 1.0, 3.0]}


def _grads(L, exponent, compiled=False):
    z = L.tensor(BASE, requires_grad=True)
    e = L.tensor(exponent, requires_grad=True) if isinstance(exponent, list) else exponent

    def step(z, e):
        y = L.float_power(z, e)
        y.sum().backward()
        return y

    fn = graphnet.compile(step) if compiled else step
    y = fn(z, e)
    return [y.detach().numpy(), z.grad.numpy()] + ([e.grad.numpy()] if isinstance(
        exponent, list) else [])


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", sorted(EXPONENTS))
def test_values_and_gradients_equal_torch(name, compiled):
    want = _grads(torch, EXPONENTS[name])
    got = _grads(graphnet, EXPONENTS[name], compiled)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, equal_nan=True)


def test_a_vandermonde_kernel_with_a_zero_node_has_finite_gradients():
    nodes = [0.0, 0.5, -0.3]
    grads = []
    for L in (torch, graphnet):
        z = L.tensor(nodes, requires_grad=True)
        L.float_power(z[:, None], L.arange(4)).sum().backward()
        grads.append(z.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
    assert np.isfinite(grads[1]).all()
