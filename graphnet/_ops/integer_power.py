"""Integer `a ** b` with PyTorch's results: exact, wrapping around as the dtype's
multiplication does (`3 ** 70` in int64 is 2293070008301402073, `2 ** 64` is 0).

NOTE: jnp.power of an integer array exponent squares only 6 times (it reads the low 6 bits
of the exponent, so `3 ** 70` came out as `3 ** 6` = 729); a Python int exponent is exact
(lax.integer_pow). Here the square-and-multiply runs over every bit of the exponent's
dtype: unrolled, it is one fused elementwise kernel."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def integer_power(a, b):
    """`a ** b` for integer `a` and `b` (arrays or Python ints), in their result dtype. A
    negative exponent gives 0, except for the bases 1 (1) and -1 (+-1 by the exponent's
    parity), as in PyTorch (graphnet.pow refuses a negative Python int before this)."""
    dtype = jnp.result_type(a, b)
    if isinstance(b, int) and not isinstance(b, bool) and b >= 0:
        return jnp.power(_wrapped(a, dtype), b)     # lax.integer_pow: exact
    b = jnp.asarray(b)
    if b.dtype == jnp.bool_:
        b = b.astype(jnp.int8)
    a = _wrapped(a, dtype)
    negative = b < 0
    exponent = jnp.where(negative, jnp.zeros((), b.dtype), b)
    result = jnp.ones(jnp.broadcast_shapes(a.shape, b.shape), dtype)
    base, one = a, jnp.ones((), b.dtype)
    for _ in range(jnp.iinfo(b.dtype).bits):
        result = jnp.where((exponent & one) == one, result * base, result)
        base = base * base
        exponent = jax.lax.shift_right_logical(exponent, one)
    unit = jnp.where(a == 1, 1, 0)
    if jnp.issubdtype(dtype, jnp.signedinteger):
        unit = jnp.where(a == -1, jnp.where(b % 2 == 0, 1, -1), unit)
    return jnp.where(negative, unit.astype(dtype), result)


def _wrapped(a, dtype):
    """`a` in `dtype`; a Python int base outside its range wraps around, as PyTorch's (and
    eager graphnet's) `(-3) ** uint8_tensor` does (compiled, JAX raised OverflowError)."""
    if isinstance(a, int) and not isinstance(a, bool):
        return jnp.asarray(np.array(a, dtype=np.int64).astype(dtype))
    return jnp.asarray(a, dtype)
