"""Gradients at special points (the thirty-first session's hunt): PyTorch's value where JAX's
own rule gave NaN, 0 or another subgradient; in dynamic mode and in a compiled call."""

import numpy as np
import pytest
import torch

import graphnet as gn

_NINF, _INF = float("-inf"), float("inf")


def _both(program, compiled):
    """(torch's (value, grads), graphnet's) of `program(lib, x)` differentiated w.r.t. x."""
    out = []
    for lib in (torch, gn):
        x = lib.tensor(program.x, requires_grad=True)
        if lib is gn and compiled:
            y = gn.compile(lambda x: program(gn, x))(x)
        else:
            y = program(lib, x)
        y.sum().backward()
        out.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    return out


def _case(x):
    def mark(fn):
        fn.x = x
        return fn
    return mark


_CASES = {
    "cross_entropy none, an ignored row of -inf": _case([[_NINF, 0., 1.], [_NINF, _NINF, 2.]])(
        lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([1, -100]), reduction="none")),
    "cross_entropy sum with label smoothing": _case([[_NINF, 0., 1.], [_NINF, _NINF, 2.]])(
        lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([1, -100]), reduction="sum",
                                                   label_smoothing=0.1)[None]),
    "nll_loss sum": _case([[_NINF, 0., 1.], [_NINF, _NINF, 2.]])(
        lambda L, x: L.nn.functional.nll_loss(x, L.tensor([1, -100]), reduction="sum")[None]),
    "ndtri at 0 and 1": _case([0., 1., .5])(lambda L, x: L.special.ndtri(x)),
    "logit at 0 and 1": _case([0., 1., .5, .2])(lambda L, x: L.logit(x)),
    "copysign at 0": _case([0., 0., 2., -3.])(
        lambda L, x: L.copysign(x, L.tensor([1., -1., -1., 2.]))),
    "max() under an infinite gradient": _case([0., -1., 0.])(lambda L, x: L.sqrt(x.max())[None]),
    "min() under an infinite gradient": _case([0., 1., 0.])(lambda L, x: L.sqrt(-(-x).min())[None]),
    "hypot at large and small magnitudes": _case([3e20, 3e-20, 3.])(
        lambda L, x: L.hypot(x, x * (4 / 3))),
    "sinc at 0 and 1e-15": _case([0., 1e-15, 0.7, -2.5])(lambda L, x: L.sinc(x)),
    "1 - hardsigmoid at saturation": _case([3., 4., 2., -3., 0.])(
        lambda L, x: L.sqrt(1 - L.nn.functional.hardsigmoid(x))),
}


@pytest.mark.parametrize("name", sorted(_CASES))
@pytest.mark.parametrize("compiled", [False, True])
def test_gradient_at_a_special_point_is_torchs(name, compiled):
    (value, grad), (got_value, got_grad) = _both(_CASES[name], compiled)
    np.testing.assert_allclose(got_value, value, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-6, atol=1e-7)
