"""Special functions at their poles and infinities, values and gradients, as PyTorch gives
them (JAX's rules gave NaN in each of these places)."""

import numpy as np
import pytest
import torch

import graphnet as gn

INF = float("inf")


def _same(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(np.nan_to_num(got, posinf=1e300, neginf=-1e300),
                               np.nan_to_num(want, posinf=1e300, neginf=-1e300), rtol=2e-5)


GRADIENTS = {
    "digamma": (lambda L, x: L.digamma(x), [0.0, 1.5, INF, -2.5]),
    "polygamma1": (lambda L, x: L.polygamma(1, x), [0.0, 2.0, INF, -0.5]),
    "polygamma2": (lambda L, x: L.polygamma(2, x), [0.0, -3.0, 2.0, -INF]),
    "polygamma4": (lambda L, x: L.special.polygamma(4, x), [0.0, -1.0, 0.5]),
    "multigammaln": (lambda L, x: L.special.multigammaln(x, 2), [0.5, 1.0, 2.0]),
    "multigammaln3": (lambda L, x: L.mvlgamma(x, 3), [1.0, 1.5, 3.0]),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradients_at_poles_match_torch(name, compiled):
    fn, points = GRADIENTS[name]
    results = []
    for lib in (torch, gn):
        x = lib.tensor(points, requires_grad=True)

        def loss(x, lib=lib):
            return fn(lib, x).sum()

        out = (gn.compile(loss) if compiled and lib is gn else loss)(x)
        out.backward()
        results.append((fn(lib, x.detach()).numpy(), x.grad.numpy()))
    for got, want in zip(results[1], results[0]):
        _same(got, want)


def test_values_at_infinities_and_poles_match_torch():
    cases = [
        lambda L: L.special.spherical_bessel_j0(L.tensor([INF, -INF, 0.0, float("nan"), 2.0])),
        lambda L: L.special.zeta(L.tensor([3.0, 2.0, INF, INF, 4.0, 3.0, 1.0, 0.5]),
                                 L.tensor([0.0, 0.0, 1.0, 2.0, -1.0, -0.5, 0.0, -1.0])),
        lambda L: L.special.gammainc(L.tensor([INF, INF, INF, 1.0, 2.0]),
                                     L.tensor([1.0, INF, 0.0, INF, 1.5])),
        lambda L: L.special.gammaincc(L.tensor([INF, INF, INF, 1.0, 2.0]),
                                      L.tensor([1.0, INF, 0.0, INF, 1.5])),
    ]
    for case in cases:
        _same(case(gn).numpy(), case(torch).numpy())
        _same(gn.compile(lambda: case(gn))().numpy(), case(torch).numpy())


def test_gammainc_gradient_in_x_still_matches_torch():
    results = []
    for lib in (torch, gn):
        x = lib.tensor([0.5, 1.5, 3.0], requires_grad=True)
        lib.special.gammainc(lib.tensor([INF, 2.0, 1.0]), x).sum().backward()
        results.append(x.grad.numpy())
    _same(results[1], results[0])
