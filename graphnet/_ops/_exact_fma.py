"""A fused multiply-add (`a * b + c` rounded once) from NumPy's float64 adds and multiplies.

PyTorch's CPU kernels for `arange` and `linspace` are compiled with FMA contraction, so their
float64 values are `fma(step, i, start)`, which `start + step * i` (two roundings) misses in
the last bit for about one element in three. NumPy offers no FMA, so it is built here from
error-free transformations (Dekker's product, Knuth's sum) and one sum rounded to odd (Boldo
and Melquiond, "Emulation of FMA and correctly rounded sums", 2008).

NOTE: host NumPy only. Inside an XLA kernel these transformations break: XLA contracts
`c + a * b` into an FMA of its own where it fuses the rounded product into a later sum (an
optimization barrier does not survive to its fusion passes), so `two_sum(c, a * b)` is no
longer error-free there."""

from __future__ import annotations

import numpy as np

_SPLITTER = 134217729.0   # 2**27 + 1: splits a float64 into two halves of 26 bits


def two_sum(a, b):
    """`(s, e)` with `s = a + b` rounded and `s + e == a + b` exactly."""
    s = a + b
    b_part = s - a
    return s, (a - (s - b_part)) + (b - b_part)


def two_product(a, b):
    """`(p, e)` with `p = a * b` rounded and `p + e == a * b` exactly (no overflow)."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _split(a):
    scaled = _SPLITTER * a
    hi = scaled - (scaled - a)
    return hi, a - hi


def odd_sum(a, b, xp=np):
    """`a + b` rounded to odd: an inexact sum keeps the neighbour whose last bit is 1. A
    float64 rounded so, then rounded to float32, is the float32 nearest the exact sum.
    Only adds, so it holds in an XLA kernel too (`xp` jax.numpy) for exact `a` and `b`."""
    s, e = (xp.asarray(v) for v in two_sum(xp.asarray(a, np.float64),
                                           xp.asarray(b, np.float64)))
    even = (s.view(np.int64) & 1) == 0
    nudged = xp.nextafter(s, xp.where(e > 0, np.inf, -np.inf))
    return xp.where((e != 0) & even, nudged, s)


def fma(a, b, c) -> np.ndarray:
    """float64 `a * b + c` with one rounding, as C's `fma` (finite values, no overflow)."""
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    product, product_error = two_product(a, b)
    high, low = two_sum(c, product)
    return high + odd_sum(low, product_error)


def fma32(a, b, c) -> np.ndarray:
    """float32 `a * b + c` with one rounding, for float32 `a`, `c` and an integer `b` below
    2**29: the float64 product is exact, and the float64 sum rounded to odd, then to
    float32, is the correctly rounded float32 result."""
    exact = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    return odd_sum(exact, np.asarray(c, np.float64)).astype(np.float32)
