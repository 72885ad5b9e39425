"""Pointwise ops with arguments beyond their tensors: polygamma's order, mvlgamma's p,
logit's eps, nan_to_num's replacements, lerp's weight, isclose's tolerances, and frexp's two
outputs. Their functions and methods are written by hand in graphnet/_math_pointwise.py
(argument orders and defaults as PyTorch has them), so the entries name no method."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jss

from ._promote import as_float, refuse
from ._table import defop


@defop("polygamma", "elementwise", method=None, dump=True)
def polygamma(x, *, n):
    return polygamma_of(as_float(x), n)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def polygamma_of(x, n: int):
    """polygamma(n, x) with PyTorch's values at the poles; its derivative is polygamma(n + 1),
    the same function, so a pole's gradient is PyTorch's ±inf (JAX's rule gave NaN)."""
    if n == 0:   # digamma, with PyTorch's -inf at 0 and +inf at -0
        from .pointwise_extra import torch_digamma

        return torch_digamma(x)
    # NOTE: JAX's series loses about 4 digits in float32 (polygamma(4, -2.5) is off by 5e-4
    # relative); float64 inside gives PyTorch's float32 result.
    wide = x.astype(jnp.float64)
    out = jss.polygamma(n, wide)
    if n == 1:
        # PyTorch's trigamma: 0 at +inf, NaN at -inf (JAX: NaN and inf)
        out = jnp.where(wide == jnp.inf, 0.0, jnp.where(wide == -jnp.inf, jnp.nan, out))
    else:
        # a pole (0, a negative integer, or -inf) is (-1)^(n+1) inf in PyTorch, NaN in JAX
        pole = (wide <= 0) & (wide == jnp.floor(wide))
        out = jnp.where(pole, (-1.0) ** (n + 1) * jnp.inf, out)
    return out.astype(x.dtype)


@polygamma_of.defjvp
def _polygamma_jvp(n, primals, tangents):
    (x,), (t,) = primals, tangents
    return polygamma_of(x, n), t * polygamma_of(x, n + 1)


# NOTE: PyTorch 2.13 no longer checks x > (p - 1) / 2: outside, the result is inf or NaN
@defop("mvlgamma", "elementwise", method=None, dump=True)
def mvlgamma(x, *, p):
    return _mvlgamma(as_float(x), p)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _mvlgamma(x, p: int):
    terms = sum(jax.lax.lgamma(x - i / 2) for i in range(p))
    return terms + p * (p - 1) / 4 * math.log(math.pi)


@_mvlgamma.defjvp
def _mvlgamma_jvp(p, primals, tangents):
    """PyTorch's gradient, the sum of digamma(x - i/2): -inf at a pole, where JAX's NaN."""
    (x,), (t,) = primals, tangents
    return _mvlgamma(x, p), t * sum(polygamma_of(x - i / 2, 0) for i in range(p))


@defop("logit", "elementwise", method=None, dump=True)
def logit(x, *, eps=None):
    x = as_float(x)
    if eps is not None:
        # NOTE: not jnp.clip, whose gradient is halved at a bound; PyTorch passes all of
        # it on the closed interval [eps, 1 - eps] and none outside
        low, high = jnp.asarray(eps, x.dtype), jnp.asarray(1 - eps, x.dtype)
        x = jnp.where(x < low, low, jnp.where(x > high, high, x))
    return _logit(x)


@jax.custom_jvp
def _logit(x):
    return jnp.log(x / (1 - x))


# PyTorch's gradient, 1 / (x (1 - x)): inf at 0 and 1 (JAX's rule gave NaN there), NaN
# outside [0, 1] (it was finite: -1.33 at -0.5); with eps the input is clamped first
_logit.defjvps(lambda t, _, x: t * jnp.where((x < 0) | (x > 1), jnp.nan, 1 / (x * (1 - x))))


@defop("nan_to_num", "elementwise", method=None, dump=True)
def nan_to_num(x, *, nan=0.0, posinf=None, neginf=None):
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return x   # integers hold no NaN or infinity
    info = jnp.finfo(x.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    x = jnp.where(jnp.isnan(x), jnp.asarray(nan, x.dtype), x)
    x = jnp.where(jnp.isposinf(x), jnp.asarray(posinf, x.dtype), x)
    return jnp.where(jnp.isneginf(x), jnp.asarray(neginf, x.dtype), x)


@defop("frexp", "elementwise", n_outputs=2, differentiable=False, method=None)
def frexp(x):
    refuse("frexp", x, kinds="bi")
    mantissa, exponent = jnp.frexp(x)
    return mantissa, exponent.astype(jnp.int32)


@defop("lerp", "broadcast", method=None, dump=True)
def lerp(start, end, weight):
    # PyTorch's formula: from whichever end is nearer, so lerp(a, b, 1) is exactly b
    diff = end - start
    near_start = start + weight * diff
    near_end = end - diff * (1 - weight)
    return jnp.where(jnp.abs(weight) < 0.5, near_start, near_end)


@defop("isclose", "broadcast", differentiable=False, method=None, dump=True)
def isclose(a, b, *, rtol=1e-05, atol=1e-08, equal_nan=False):
    close = a == b
    if jnp.issubdtype(jnp.result_type(a, b), jnp.bool_):
        return close
    if equal_nan:
        close = close | (jnp.isnan(a) & jnp.isnan(b))
    if rtol == 0 and atol == 0:
        return close
    # NOTE: integers compare in float64, so |a - b| cannot overflow
    fa, fb = (v if jnp.issubdtype(jnp.result_type(v), jnp.inexact) else
              jnp.asarray(v, jnp.float64) for v in (a, b))
    finite = jnp.isfinite(fa) & jnp.isfinite(fb)
    within = jnp.abs(fa - fb) <= atol + rtol * jnp.abs(fb)
    return close | (finite & within)
