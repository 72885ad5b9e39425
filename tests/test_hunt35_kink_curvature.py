"""ELU (and selu, celu) and softplus differentiate to second order as PyTorch does at their
kinks: the curvature at x = 0 (elu) and at beta * x = threshold (softplus) is 0, the strict
side's, while the slope there is the negative / smooth side's. JAX differentiated the chosen
`where` branch twice and gave the left limit (elu(alpha=0.5)'' at 0 was 0.5, selu'' 1.758)."""

import numpy as np
import pytest
import torch

import graphnet

POINTS = [-30.0, -3.0, -1e-3, 0.0, 1e-3, 2.0, 6.0, 6.5, 40.0]


def _fns(lib):
    F = lib.nn.functional
    return {
        "elu": lambda x: F.elu(x, alpha=0.5),
        "elu_default": F.elu,
        "selu": F.selu,
        "celu": lambda x: F.celu(x, alpha=2.0),
        "softplus": lambda x: F.softplus(x, beta=0.5, threshold=3.0),
        "softplus_default": F.softplus,
        "softplus_at_20": lambda x: F.softplus(x * 20.0 / 6.0),
    }


def _derivatives(lib, name, compiled=False):
    fn = _fns(lib)[name]

    def three(x):
        y = fn(x)
        g1, = lib.autograd.grad(y.sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g1.sum(), x, create_graph=True)
        return y, g1, g2

    if compiled:
        three = graphnet.compile(three)
    x = lib.tensor(POINTS, requires_grad=True)
    return [t.detach().numpy() for t in three(x)]


@pytest.mark.parametrize("name", sorted(_fns(torch)))
@pytest.mark.parametrize("compiled", [False, True])
def test_value_slope_and_curvature_equal_torch(name, compiled):
    want = _derivatives(torch, name)
    got = _derivatives(graphnet, name, compiled)
    for order, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7, err_msg=f"order {order}")


def test_curvature_at_the_kinks_is_zero():
    x = graphnet.tensor([0.0], requires_grad=True)
    g1, = graphnet.autograd.grad(graphnet.nn.functional.elu(x, alpha=0.5).sum(), x,
                                 create_graph=True)
    g2, = graphnet.autograd.grad(g1.sum(), x)
    assert g1.item() == 0.5 and g2.item() == 0.0
    x = graphnet.tensor([6.0], requires_grad=True)
    g1, = graphnet.autograd.grad(
        graphnet.nn.functional.softplus(x, beta=0.5, threshold=3.0).sum(), x, create_graph=True)
    g2, = graphnet.autograd.grad(g1.sum(), x)
    assert g2.item() == 0.0


def test_nan_and_half_inputs():
    for lib in (torch, graphnet):
        x = lib.tensor([float("nan"), -1.0, 1.0], requires_grad=True)
        lib.nn.functional.elu(x).sum().backward()
        assert x.grad[0].item() == 1.0       # PyTorch: a NaN takes the positive side
    h = graphnet.tensor([-1.0, 0.0, 2.0], dtype=graphnet.float16)
    assert graphnet.nn.functional.elu(h).dtype == graphnet.float16
    assert graphnet.nn.functional.softplus(h).dtype == graphnet.float16
