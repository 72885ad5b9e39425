"""`x ** e` for a Python number `e` as PyTorch's CPU kernel computes it: 0.5, 2, 3, -0.5, -1
and -2 are sqrt, products and reciprocals there, so `(-0.0) ** -0.5` is -inf (XLA's pow gave
inf, flipping the sign of a D^-1/2 entry for an isolated node), `(-0.0) ** 0.5` is -0.0,
`(-inf) ** 0.5` NaN, and `x ** 3` two rounded products (a quarter of float32 values were an
ulp off). A tensor exponent stays IEEE pow; float16 rounds its number first and computes in
float32 (compiled, XLA's rewrite of `x ** 3` in float16 rounded each product)."""

import numpy as np
import pytest
import torch

import graphnet as gn

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, -2.0, 4.0]
EXPONENTS = [0.5, -0.5, 2, 3, -1, -2, 2.0, 1.5, -1.5, 0, 1]


def _same(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    np.testing.assert_array_equal(got, want)     # NaN where NaN
    shown = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got)[shown], np.signbit(want)[shown])


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_special_values_follow_torch(dtype, compiled):
    xt = torch.tensor(SPECIAL).to(getattr(torch, dtype))
    xg = gn.tensor(SPECIAL).to(getattr(gn, dtype))
    for e in EXPONENTS:
        fn = (lambda x: x ** e) if not compiled else gn.compile(lambda x: x ** e)
        _same(fn(xg).float().numpy(), (xt ** e).float().numpy())


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_at_signed_zeros_follow_torch(dtype, compiled):
    x = [-0.0, 0.0, -2.0, 4.0, 0.3, 7.0]
    for e in EXPONENTS:
        xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
        want, = torch.autograd.grad(xt.pow(e).sum(), xt)

        def grad(v, e=e):
            return gn.autograd.grad(v.pow(e).sum(), v)[0]

        xg = gn.tensor(x, dtype=getattr(gn, dtype), requires_grad=True)
        got = (gn.compile(grad) if compiled else grad)(xg).numpy()
        _same(got[:3], want.numpy()[:3])   # the signed zeros exactly, the rest to an ulp
        np.testing.assert_allclose(got[3:], want.numpy()[3:], rtol=3e-7)


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_products_round_as_torch(dtype, compiled):
    # 4096 values: whole vectors of PyTorch's loop (its scalar tail rounds bfloat16's
    # rsqrt twice, graphnet/_ops/power.py says)
    values = np.random.default_rng(0).uniform(0.01, 10.0, 4096)
    xt = torch.tensor(values).to(getattr(torch, dtype))
    xg = gn.tensor(values).to(getattr(gn, dtype))
    # a general exponent is XLA's pow against PyTorch's SLEEF one in float32 (an ulp apart
    # for 2% of values); in the half types both round to the same
    halves = (3.7, -0.5) if dtype == "bfloat16" else (3.7,) if dtype == "float16" else ()
    for e in (2, 3, -1, -2) + halves:
        fn = (lambda x: x ** e) if not compiled else gn.compile(lambda x: x ** e)
        np.testing.assert_array_equal(fn(xg).float().numpy(), (xt ** e).float().numpy())


def test_a_tensor_exponent_is_ieee_pow():
    x = [-0.0, 4.0]
    for e in (torch.tensor(-0.5), torch.tensor([0.5, 0.5])):
        want = torch.tensor(x).pow(e)
        got = gn.tensor(x).pow(gn.tensor(e.numpy()))
        _same(got.numpy(), want.numpy())
