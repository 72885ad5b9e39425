"""Rounding as PyTorch's scalar CPU kernels round. The special functions of
special_bessel.py and special_polynomials.py repeat PyTorch's formulas operation for
operation; these two helpers undo the places where XLA would round differently."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def divide_exactly(a, divisor):
    """a / divisor (a number or an array), rounded once as in PyTorch. NOTE: XLA rewrites a
    division by a constant or a broadcast scalar into a multiplication by its rounded
    reciprocal (Ai(-30) moved by 3e-5 relative in float32), and a / sqrt(b) into a * rsqrt(b);
    an opaque divisor of a's shape keeps the true division."""
    return a / jax.lax.optimization_barrier(jnp.full_like(a, divisor))


def libm(fn, v):
    """fn(v) rounded once in float32, as the C library's acosf, cosf and sinf that PyTorch's
    scalar kernels call are. XLA's float32 versions are off by an ulp at times, which
    cos(n acos x) multiplies by n (T_200(-0.995) was 1e-4 off)."""
    if v.dtype == jnp.float32:
        return fn(v.astype(jnp.float64)).astype(jnp.float32)
    return fn(v)


def multiply_subtract(a, b, c):
    """a * b - c rounded once, as PyTorch's CPU kernels compute it: they are built with FMA
    contraction, and the three-term recurrences cancel, so two roundings drift (H_12(-1.34)
    was 1e-4 off in float32). In float32 the product is exact in float64; float64 keeps the
    plain expression, which XLA contracts where it fuses (its ulp differences stay below
    1e-10 relative there)."""
    if a.dtype == jnp.float32:
        c = jnp.asarray(c, jnp.float32)   # a number rounds to float32 first, as C++'s T(c) does
        wide = a.astype(jnp.float64) * b.astype(jnp.float64) - c.astype(jnp.float64)
        return wide.astype(jnp.float32)
    return a * b - c
