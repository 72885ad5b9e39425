"""PyTorch's `pow` (`power`): IEEE pow with PyTorch's gradient at 0 for a tensor exponent,
exact integer powers, and `x ** e` for a Python number `e` as PyTorch's CPU kernel computes
it: six exponents are other functions there (`pow_tensor_scalar_optimized_kernel`), so
their values, and their signs at -0.0 and -inf, are those functions':

    0.5: sqrt(x)     2: x * x     3: x * x * x
   -0.5: 1 / sqrt(x)  -1: 1 / x    -2: 1 / (x * x)

so `(-0.0) ** -0.5` is -inf (XLA's pow, IEEE's, gives inf), `(-inf) ** 0.5` is NaN, and
`x ** 3` is two rounded products (XLA's pow differed in the last bit for a quarter of float32
inputs). Other exponents take `pow`. float16 is not special there (its `pow` runs in
float32, rounded once; XLA's own rewrite of `x ** 3` rounded each product), float32, float64
and bfloat16 are (bfloat16 rounding each operation). The gradient is PyTorch's
`pow_backward`, `e * x ** (e - 1)` with the same rule for the power, 0 where `e` is 0.

A tensor exponent, 0-d included, is PyTorch's tensor-tensor `pow`, never special: the
number is told apart by JAX's weak type (a Python number keeps it through `jit`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .integer_power import integer_power

_SPECIAL = (0.5, 2.0, 3.0, -0.5, -1.0, -2.0)


def _forms(rounded):
    """The six forms, with `rounded` applied to each intermediate product (bfloat16's
    vectors round after every operation in PyTorch, and `rsqrt` is one operation there; XLA
    keeps float32 between fused operations unless told by `reduce_precision`).
    NOTE: PyTorch's scalar loop, for a tail shorter than a vector, rounds `sqrt` before
    dividing too: a bfloat16 tensor of fewer than 16 elements may differ in the last bit."""
    return (jnp.sqrt, lambda x: x * x, lambda x: rounded(x * x) * x,
            _rsqrt, lambda x: 1 / x, lambda x: 1 / rounded(x * x))


def _rsqrt(x):
    """`1 / sqrt(x)`, one operation: a bfloat16 input in float32, rounded once."""
    wide = jnp.float32 if x.dtype == jnp.bfloat16 else x.dtype
    return (1 / jnp.sqrt(x.astype(wide))).astype(x.dtype)


def _bfloat16(x):
    return jax.lax.reduce_precision(x, exponent_bits=8, mantissa_bits=7)


def number_exponent(a, b) -> bool:
    """Whether `b` is a Python number (weakly typed, 0-d) applied to a floating array `a`
    (not a number base: `2 ** t` is PyTorch's tensor-tensor pow)."""
    if isinstance(b, bool) or jnp.ndim(b) != 0 or jnp.ndim(a) == 0 and _weak(a):
        return False
    if not (isinstance(b, (int, float)) or _weak(b)):
        return False
    return jnp.result_type(a) in (jnp.float32, jnp.float64, jnp.bfloat16, jnp.float16)


def _weak(x) -> bool:
    return bool(getattr(jax.typeof(x), "weak_type", False)) \
        if not isinstance(x, (int, float)) else True


def _pick(a, b):
    """`a ** b` by PyTorch's form for `b`: chosen in Python for a known `b` (a traced
    graph's literal), by `lax.switch` for a kernel argument (an eager call). float16 takes
    float32's `pow` of the float16 exponent, rounded once, as PyTorch's Half kernel does."""
    if a.dtype == jnp.float16:   # the number rounded to float16 first, as PyTorch's
        exponent = jnp.asarray(b).astype(jnp.float16).astype(jnp.float32)
        return jnp.power(a.astype(jnp.float32), exponent).astype(jnp.float16)
    forms = _forms(_bfloat16 if a.dtype == jnp.bfloat16 else (lambda x: x))
    if isinstance(b, (int, float)):
        b = float(b)
        return forms[_SPECIAL.index(b)](a) if b in _SPECIAL else jnp.power(a, b)
    which = sum(jnp.where(b == value, k + 1, 0) for k, value in enumerate(_SPECIAL))
    general = lambda x: jnp.power(x, b.astype(x.dtype))   # noqa: E731
    return jax.lax.switch(which, (general, *forms), a)


@jax.custom_jvp
def scalar_power(a, b):
    return _pick(a, b).astype(jnp.result_type(a))


@scalar_power.defjvp
def _scalar_power_jvp(primals, tangents):
    (a, b), (ta, _) = primals, tangents   # a number exponent has no gradient
    out = scalar_power(a, b)
    slope = jnp.where(b == 0, 0, b * _pick(a, b - 1)).astype(out.dtype)
    return out, (ta * slope).astype(out.dtype)


@jax.custom_jvp
def _float_power(a, b):
    return jnp.power(a, b)


@_float_power.defjvp
def _float_power_jvp(primals, tangents):
    """PyTorch's pow_backward: the base's slope is 0 where the exponent is 0, and the
    exponent's where the base is 0 and the exponent >= 0 (JAX's gave NaN: 0 * inf, and
    0 * log 0), so `x ** y` at x = 0 had NaN gradients."""
    (a, b), (ta, tb) = primals, tangents
    out = jnp.power(a, b)
    flat = b == 0
    slope_a = jnp.where(flat, 0, b * jnp.power(a, jnp.where(flat, 1, b) - 1))
    no_log = (a == 0) & (b >= 0)
    slope_b = jnp.where(no_log, 0, out * jnp.log(jnp.where(no_log, 1, a)))
    tangent = jnp.zeros_like(out)
    for t, slope in ((ta, slope_a), (tb, slope_b)):
        if t.dtype != jax.dtypes.float0:    # an integer operand has no tangent
            tangent = tangent + t * slope
    return out, tangent.astype(out.dtype)


def power(a, b):
    """PyTorch's pow: floats with its gradient at 0 (_float_power), integers exact with
    wrap-around (integer_power.py), and a Python number exponent as PyTorch's CPU kernel
    takes it (`scalar_power`)."""
    if jnp.issubdtype(jnp.result_type(a, b), jnp.integer):
        return integer_power(a, b)
    if number_exponent(a, b):
        return scalar_power(a, b)
    return _float_power(a, b)
