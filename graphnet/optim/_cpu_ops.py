"""torch 2.13's CPU elementwise kernels as the optimizers' single-tensor steps call them, one
function per in-place op (`exp_avg.lerp_(grad, w)` is `lerp(exp_avg, grad, w)`), each
rounding its result to the tensor's dtype once, where torch's kernel rounds.

Why: a float16/bfloat16 step is a chain of such ops and torch rounds after every one, with
the inside of each op computed in float32 (its "opmath" type) and a Python scalar taken as a
float32, not as a half. Writing the chain as plain jnp arithmetic on half arrays rounded at
other places: 3-20% of the elements of an Adam or RMSprop step came out 1 ulp away.

For a half tensor every op is computed in float64 and rounded explicitly where torch rounds
(`_op` to float32, `_out` to the tensor's dtype): a float32 product is exact in float64, so a
fused multiply-add (torch's add with alpha, lerp, addcmul) is one rounding, and a float32
quotient or root computed in float64 and rounded once is the correctly rounded one. Checked
element by element against torch in tests/test_optimizer_guard_parity.py.

A float32 or float64 tensor takes its own dtype's plain arithmetic (`_native`): there the
emulation's float64 work would slow every training step (and a GPU's or TPU's float64 is
slow or absent) for a difference of 1 ulp of float32 on some elements, where XLA fuses a
multiply and an add; tolerances of 1e-6 cover it.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

_HALVES = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))
_HALF_LANES = 16   # Vectorized<Half>::size() with AVX2, torch's CPU capability here


def _native(x) -> bool:
    """Whether `x` (a tensor's array) is float32/float64: plain arithmetic in its dtype."""
    return jnp.dtype(jnp.asarray(x).dtype) not in _HALVES


def _number(s, x):
    """A hyper-parameter (a Python number or a traced 0-d array) in `x`'s dtype."""
    return jnp.asarray(s).astype(x.dtype)


def opmath(dtype):
    """The type torch's CPU kernels compute a `dtype` tensor's op in."""
    return jnp.dtype(jnp.float32) if jnp.dtype(dtype) in _HALVES else jnp.dtype(dtype)


def _wide(x):
    """`x` (a tensor's array or a number) in float64, where every float32 operation below
    is computed and then rounded explicitly with `_op`. NOTE: XLA's CPU backend fuses a
    float32 multiply and add into one fma; an explicit float64 -> float32 rounding between
    them keeps torch's two roundings (and a float32 quotient or root computed in float64
    and rounded once is the correctly rounded one)."""
    return jnp.asarray(x).astype(jnp.float64)


def _op(value, like):
    """One float32 (opmath) rounding of a float64 intermediate, for a `like` tensor.
    NOTE: `reduce_precision`, not astype(float32).astype(float64): XLA drops such a pair
    of converts and keeps the float64 value (517 of 2000 elements then differed). It
    flushes results below float32's smallest normal (1.2e-38) to zero."""
    if opmath(like.dtype) == jnp.float32:
        return lax.reduce_precision(value, exponent_bits=8, mantissa_bits=23)
    return value


def up(x):
    """A tensor's array as torch's kernel reads it: its opmath value (exact), in float64."""
    return _wide(x)


def scalar(value, like):
    """A Python number (a float64, or a 0-d array when traced) as the kernel of a `like`
    tensor sees it: `value.to<opmath_t>()`, so a float32 for a half tensor, not a half."""
    return _op(_wide(value), like)


def _out(value, like):
    """The op's result in the tensor's dtype: rounded to opmath first, as torch's kernel
    computes it, then to the half type."""
    return _op(value, like).astype(like.dtype)


def mul(x, s):
    """`x.mul(s)` for a number s."""
    if _native(x):
        return x * _number(s, x)
    return _out(up(x) * scalar(s, x), x)


def mul_t(x, y):
    """`x.mul(y)` for a tensor y of x's dtype."""
    if _native(x):
        return x * y
    return _out(up(x) * up(y), x)


def add(x, y, alpha=1.0):
    """`x.add(y, alpha=alpha)`: fmadd(y, alpha, x). NOTE: for a half tensor alpha is
    rounded to the half type, and the scalar loop over the last len % (2 * 16) elements
    rounds alpha * y to half before adding (both seen against torch 2.13 on AVX2)."""
    if _native(x):
        return x + y * _number(alpha, x)
    halved = _wide(scalar(alpha, x).astype(x.dtype))
    vectorised = _op(up(y) * halved + up(x), x)
    scalar_loop = up(x) + _wide(_out(up(y) * halved, x))
    tail = jnp.arange(x.size).reshape(x.shape) >= x.size - x.size % (2 * _HALF_LANES)
    return _out(jnp.where(tail, scalar_loop, vectorised), x)


def add_scalar(x, s):
    """`x.add(s)` for a number s."""
    if _native(x):
        return x + _number(s, x)
    return _out(up(x) + scalar(s, x), x)


def addcmul(x, t1, t2, value=1.0):
    """`x.addcmul(t1, t2, value=value)`: (value * t1) * t2 + x, the last two fused (the
    compiler contracts torch's `self + value * t1 * t2`)."""
    if _native(x):
        return x + _number(value, x) * t1 * t2
    return _out(_op(scalar(value, x) * up(t1), x) * up(t2) + up(x), x)


def addcdiv(x, t1, t2, value=1.0):
    """`x.addcdiv(t1, t2, value=value)`: x + (value * t1) / t2, each rounded."""
    if _native(x):
        return x + _number(value, x) * t1 / t2
    quotient = _op(_op(scalar(value, x) * up(t1), x) / up(t2), x)
    return _out(up(x) + quotient, x)


def div(x, y):
    """`x / y` for a tensor y of x's dtype."""
    if _native(x):
        return x / y
    return _out(up(x) / up(y), x)


def div_scalar(x, s):
    """`x / s` for a number s."""
    if _native(x):
        return x / _number(s, x)
    return _out(up(x) / scalar(s, x), x)


def sqrt(x):
    """`x.sqrt()`, correctly rounded. NOTE: torch's float32 kernel (MKL's vsSqrt) is 1 ulp
    off on about 1 element in 6; its half kernels round a float32 root, as here."""
    if _native(x):
        return jnp.sqrt(x)
    return _out(_op(jnp.sqrt(up(x)), x), x)


def reciprocal(x):
    """`x.reciprocal()`, also what torch computes for `number / x` (times the number)."""
    if _native(x):
        return 1 / x
    return _out(1.0 / up(x), x)


def maximum(x, y):
    return jnp.maximum(x, y)


def lerp(start, end, weight):
    """`start.lerp(end, weight)` for a number weight: fmadd(coeff, end - start, base) with
    coeff, base = (w, start) for |w| < 0.5, else (w - 1, end), exact at both ends."""
    if _native(start):
        w = _number(weight, start)
        return jnp.where(jnp.abs(w) < 0.5, start + w * (end - start),
                         end - (end - start) * (1 - w))
    w = scalar(weight, start)
    low = jnp.abs(w) < 0.5
    a, b = up(start), up(end)
    coeff, base = jnp.where(low, w, _op(w - 1, start)), jnp.where(low, a, b)
    return _out(coeff * _op(b - a, start) + base, start)
