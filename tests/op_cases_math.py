"""Parity cases of the elementwise math, reductions and scans added for issue 10
(graphnet/_ops/pointwise_extra.py, pointwise_special.py, reduce_extra.py). Plain unary and
binary ops get generated cases (random normal inputs); a case here replaces the generated one
where the op needs another input domain or dtype."""

from __future__ import annotations

import numpy as np
from op_case_kit import Case, fixed, ints, positive, randn, unit


def uniform(low, high, *shape):
    return lambda rng: rng.uniform(low, high, shape).astype(np.float32)


def _call(name):
    return lambda T, *xs: getattr(T, name)(*xs)


def _named(name, *inputs, **kw):
    """`T.name(*inputs)`, also checked as a method and in-place method (`names=True`)."""
    return Case(_call(name), inputs, names=True, **kw)


_NAN_INF = fixed([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.5]])
# NOTE: PyTorch leaves which index median reports among equal values unspecified (its CPU
# kernel's choice varies), so rows here hold distinct values; NaN positions are specified.
_WITH_NAN = fixed([[1.0, np.nan, 3.0, 2.0, 0.5], [4.0, 2.0, -1.0, 2.5, 7.0],
                   [np.nan, np.nan, 5.0, 1.0, 2.0]])

CASES = {
    # float-valued functions on their domains
    **{n: _named(n, uniform(-0.9, 0.9, 3, 4)) for n in ("asin", "acos", "atanh", "erfinv")},
    "acosh": _named("acosh", uniform(1.2, 3.0, 3, 4)),
    "log10": _named("log10", positive(3, 4)),
    "lgamma": _named("lgamma", positive(3, 4), atol=1e-4),
    "digamma": _named("digamma", positive(3, 4), atol=1e-4),
    "frac": _named("frac", uniform(-3, 3, 3, 4)),
    # predicates and integer ops
    **{n: _named(n, _NAN_INF) for n in ("signbit", "isfinite", "isposinf", "isneginf",
                                        "isreal")},
    "bitwise_not": _named("bitwise_not", ints(-5, 5, 3, 4)),
    **{n: _named(n, ints(-20, 20, 3, 4), ints(-9, 9, 4))
       for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm")},
    **{n: _named(n, ints(-20, 20, 3, 4), ints(0, 5, 4))
       for n in ("bitwise_left_shift", "bitwise_right_shift")},
    "logical_xor": _named("logical_xor", ints(0, 2, 3, 4), ints(0, 3, 4)),
    # two inputs on their domains
    "xlogy": Case(lambda T, x, y: T.xlogy(x, y) + T.xlogy(x * 0, y) + x.xlogy(2.0),
                  (randn(3, 4), positive(4))),
    "fmod": _named("fmod", randn(3, 4), uniform(0.5, 1.5, 4)),
    "igamma": _named("igamma", positive(3, 4), positive(4), no_grad=(0,), atol=1e-4),
    "igammac": _named("igammac", positive(3, 4), positive(4), no_grad=(0,), atol=1e-4),
    "ldexp": Case(lambda T, x, e: T.ldexp(x, e) + x.ldexp(e), (randn(3, 4), ints(-3, 4, 4))),
    "heaviside": _named("heaviside", fixed([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.0]]),
                        fixed([0.5, 0.25, 1.0])),
    "float_power": Case(lambda T, x, y: T.float_power(x, y) + x.float_power(2),
                        (positive(3, 4), randn(4))),
    "fmax": _named("fmax", _NAN_INF, fixed([0.5, np.nan, 4.0])),
    "fmin": _named("fmin", _NAN_INF, fixed([0.5, np.nan, 4.0])),
    # with extra arguments
    "polygamma": Case(lambda T, x: T.polygamma(1, x) + x.polygamma(2) + T.polygamma(0, x),
                      (positive(3, 4),), atol=1e-3, rtol=1e-4),
    "mvlgamma": Case(lambda T, x: T.mvlgamma(x, 3) + x.mvlgamma(p=1),
                     (uniform(1.5, 3.0, 3, 4),), atol=1e-4),
    "logit": Case(lambda T, x: T.logit(x) + x.logit(eps=0.2), (unit(3, 4),), atol=1e-4),
    "nan_to_num": Case(lambda T, x: T.nan_to_num(x) * 1e-30 + x.nan_to_num(1.0, 2.0, -3.0),
                       (_NAN_INF,)),
    "frexp": Case(lambda T, x: tuple(T.frexp(x)) + tuple(x.frexp()), (randn(3, 4),)),
    "lerp": Case(lambda T, a, b, w: T.lerp(a, b, w) + a.lerp(b, 0.75) + T.lerp(a, b, 0.3),
                 (randn(3, 4), randn(4), unit(3, 4))),
    "isclose": Case(lambda T, a, b: T.isclose(a, b, atol=0.5) | a.isclose(a)
                    | T.isclose(b, b, equal_nan=True),
                    (randn(3, 3), fixed([1.0, np.nan, np.inf]))),
    # reductions and scans
    "cumprod": Case(lambda T, x: T.cumprod(x, 1) + x.cumprod(0),
                    (fixed([[1.5, 0.0, -2.0, 0.5], [0.0, 0.0, 3.0, -1.0], [2.0, 1.5, 0.0, 4.0]]),)),
    "logcumsumexp": Case(lambda T, x: T.logcumsumexp(x, 1) + x.logcumsumexp(0), (randn(3, 4),)),
    "cummax": Case(lambda T, x: tuple(T.cummax(x, 1)) + tuple(x.cummax(0)), (_WITH_NAN,)),
    "cummin": Case(lambda T, x: tuple(T.cummin(x, 1)) + tuple(x.cummin(-2)),
                   (fixed([[3.0, 1.0, 1.0, 2.0, 0.5], [4.0, 2.0, 5.0, 2.0, -7.0]]),)),
    "nansum": Case(lambda T, x: T.nansum(x, 1) + x.nansum() + T.nansum(x, (0, 1)), (_WITH_NAN,)),
    "nanmean": Case(lambda T, x: T.nanmean(x, 1, keepdim=True) + x.nanmean(), (_WITH_NAN,)),
    "median": Case(lambda T, x: tuple(T.median(x, 1)) + (x.median(), T.nanmedian(x),
                                                         *T.nanmedian(x, 1, keepdim=True)),
                   (_WITH_NAN,)),
    "mode": Case(lambda T, x: tuple(T.mode(x, 1)) + tuple(x.mode(0, keepdim=True)),
                 (fixed([[2.0, 1.0, 2.0, 1.0, 3.0], [5.0, 5.0, 4.0, 4.0, 6.0],
                         [1.0, 2.0, 3.0, 4.0, 5.0]]),)),
    "quantile": Case(lambda T, x, q: (T.quantile(x, q, dim=1), x.quantile(0.4),
                                      T.quantile(x, 0.25, dim=0, keepdim=True,
                                                 interpolation="midpoint"),
                                      T.nanquantile(x, q, 1, interpolation="nearest")),
                     (randn(3, 7), fixed([0.1, 0.5, 0.9])), no_grad=(1,)),
}
