"""Gradients at the points where an activation, clamp, abs, norm or max changes formula equal
PyTorch's, eagerly and compiled. JAX's own rules differ there (jnp.clip and maximum share
the gradient at a tie, abs has slope 1 at 0, a 2-norm of zeros or a std of equal values has a
0/0 gradient), and
inputs exactly at those points are common: zeros, values already clamped, ties."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

# every kink of the functions below: 0, +-0.5, +-1, 2, 3, 6, and ties
X = np.array([-7.0, -6.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 7.0],
             np.float32)


def _lib(F):
    return torch if F is torch.nn.functional else graphnet


CASES = {
    "hardtanh(-0.5, 2)": lambda F, t: F.hardtanh(t, -0.5, 2.0),
    "hardtanh": lambda F, t: F.hardtanh(t),
    "relu6": lambda F, t: F.relu6(t),
    "leaky_relu(0.1)": lambda F, t: F.leaky_relu(t, 0.1),
    "rrelu eval": lambda F, t: F.rrelu(t, training=False),
    "prelu": lambda F, t: F.prelu(t, _lib(F).tensor([0.25])),
    "elu": lambda F, t: F.elu(t),
    "elu(2)": lambda F, t: F.elu(t, 2.0),
    "celu(2)": lambda F, t: F.celu(t, 2.0),
    "selu": lambda F, t: F.selu(t),
    "softshrink(1)": lambda F, t: F.softshrink(t, 1.0),
    "hardshrink(1)": lambda F, t: F.hardshrink(t, 1.0),
    "softplus(beta 2, threshold 1)": lambda F, t: F.softplus(t, 2.0, 1.0),
    "clamp(-1, 1)": lambda F, t: t.clamp(-1.0, 1.0),
    "clamp(min=0)": lambda F, t: t.clamp(min=0.0),
    "clamp(max=0)": lambda F, t: t.clamp(max=0.0),
    "clamp(tensor bounds)": lambda F, t: t.clamp(_lib(F).full_like(t, -1.0),
                                                 _lib(F).full_like(t, 2.0)),
    "abs": lambda F, t: t.abs(),
    "l1_loss": lambda F, t: F.l1_loss(t, _lib(F).zeros_like(t), reduction="sum"),
    "norm of zeros": lambda F, t: (t * 0).norm(),
    "linalg.vector_norm(1)": lambda F, t: _lib(F).linalg.vector_norm(t, 1),
    "linalg.vector_norm(inf) of ties": lambda F, t: _lib(F).linalg.vector_norm(
        _lib(F).stack([t, -t]), float("inf"), dim=0).sum(),
    "normalize(p=1)": lambda F, t: (F.normalize(_lib(F).stack([t, t * 0]), p=1, dim=0)
                                    * _lib(F).arange(26.0).reshape(2, 13)).sum(),
    "normalize of zeros": lambda F, t: F.normalize(t * 0, dim=0).sum(),
    "norm(p=3) of zeros": lambda F, t: (t * 0).norm(p=3),
    "max(dim) with ties": lambda F, t: _lib(F).stack([t, _lib(F).zeros_like(t)]).max(0).values,
    "min(dim) with ties": lambda F, t: _lib(F).stack([t, t]).min(0, keepdim=True).values,
    "amax with ties": lambda F, t: _lib(F).stack([t, _lib(F).zeros_like(t)]).amax(0),
    "maximum with ties": lambda F, t: _lib(F).maximum(t, _lib(F).zeros_like(t)),
    # a zero std: PyTorch's std_backward gives 0 where sqrt's slope is infinite
    "std of equal values": lambda F, t: _lib(F).stack([t, t]).std(0),
    "std(correction=0) of equal values": lambda F, t: _lib(F).stack([t, t]).std(0, correction=0),
    "std_mean of equal values": lambda F, t: sum(_lib(F).std_mean(_lib(F).stack([t, t]), 0)),
    "std of a row with a constant": lambda F, t: _lib(F).stack([t, t * 0 + 1]).std(1),
    # pow at a zero base or exponent: PyTorch's pow_backward masks both slopes there
    "abs(x) ** x": lambda F, t: t.abs() ** t,
    "zeros ** x": lambda F, t: (t * 0) ** t,
    "x ** 0": lambda F, t: t ** 0,
    "2 ** x": lambda F, t: 2.0 ** t,
}


def _grad(lib, F, fn, compiled=False):
    x = lib.tensor(X, requires_grad=True)

    def step(x):
        fn(F, x).sum().backward()

    (graphnet.compile(step) if compiled else step)(x)
    return np.asarray(x.grad.numpy() if lib is torch else x.grad._value)


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_at_kinks_equal_torchs(name):
    want = _grad(torch, torch.nn.functional, CASES[name])
    for compiled in (False, True):
        got = _grad(graphnet, graphnet.nn.functional, CASES[name], compiled)
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=f"compiled={compiled}")


def test_values_are_unchanged_where_the_formula_changes():
    x = graphnet.tensor(np.append(X, [np.nan, -0.0]))
    assert np.isnan(x.clamp(-1.0, 1.0).numpy()[-2])                 # NaN stays NaN
    assert np.isnan(x.clamp(float("nan")).numpy()).all()             # a NaN bound gives NaN
    np.testing.assert_array_equal(x.clamp(2.0, 1.0).numpy()[:-2], 1.0)  # low > high: high
    assert np.signbit(x.abs().numpy()[-1]) == np.signbit(torch.tensor(-0.0).abs().numpy())
    assert x.max(0).indices.item() == torch.tensor(np.append(X, [np.nan, -0.0])).max(0).indices
