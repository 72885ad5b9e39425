"""The values of `arange` and `linspace`, computed as PyTorch's CPU kernels compute them, so
that they agree to the last bit (NumPy's and JAX's formulas differed in the last bit for
about one float32 element in five).

- `arange`: `fma(step, i, start)` in the accumulate type (float64 for float32 and float64,
  float32 for the half types), rounded to the dtype: PyTorch's build contracts the sum.
  Its vectorized loop takes runs of two vectors: each vector's first value so, the others
  from the rounded first value (`_fused_arange`, `_half_arange` say how). NOTE: a vector is
  32 bytes here (AVX2, PyTorch's x86 build); with AVX-512 or NEON vectors PyTorch's own
  results differ in the last bit.
- `linspace`: `step = (end - start) / (steps - 1)` in the dtype; the first half of the
  points is `fma(step, i, start)`, the second half `fma(-step, steps - 1 - i, end)`, so both
  ends are exact. Integer dtypes do it in float64 and truncate. Half types round after
  every operation, as PyTorch's Half arithmetic does (no FMA there).
- `logspace`: `base ** x` in float64 for exponents `x` as linspace's, but with a float64
  step and no FMA (PyTorch's own loop), rounded to the dtype. The power is C's `pow()`, one
  element at a time, as PyTorch's loop calls it (`libm_pow`).

Every function takes `xp`, the array module: `numpy` on the host, `jax.numpy` in a kernel."""

from __future__ import annotations

import math

import numpy as np

from ._exact_fma import fma, fma32, odd_sum

_VECTOR_BYTES = 32


def arange_values(xp, start, step, count: int, dtype):
    """`count` floating values from `start` by `step` (Python numbers), in `dtype`.
    NOTE: float64 is computed on the host (_exact_fma.py says why): a kernel holds it as a
    constant."""
    dtype = np.dtype(dtype)
    if dtype == np.float64 and xp is not np:
        return xp.asarray(arange_values(np, start, step, count, dtype))
    index = xp.arange(count, dtype=np.int64)
    first, offset = _vector_parts(xp, index, count, dtype)
    if dtype.itemsize < 4:
        return _half_arange(xp, start, step, first, offset, dtype)
    if xp is np:
        return _fused_arange(start, step, first, offset, dtype)
    # float32 in a kernel: the float64 FMA cannot be built there (_exact_fma.py), and the
    # rounded `start + step * i` is the fused value's float32 everywhere except where the
    # sum nearly cancels, at the element or two nearest zero (-1 + 0.2 * 5 is 5.55e-17 fused,
    # 0 rounded twice); those few take the host's fused values.
    base = (start + step * first.astype(np.float64)).astype(dtype)
    values = (base.astype(np.float64) + offset.astype(np.float64) * step).astype(dtype)
    near = np.arange(count, dtype=np.int64)[_near_zero(start, step, count)]
    if not near.size:
        return values
    host_first, host_offset = _vector_parts(np, near, count, dtype)
    return values.at[near].set(_fused_arange(start, step, host_first, host_offset, dtype))


def _vector_parts(xp, index, count: int, dtype):
    """(first, offset): the first index of the vector computing each element, and the
    element's place in it. A tail shorter than two vectors is PyTorch's scalar loop."""
    lanes = _VECTOR_BYTES // np.dtype(dtype).itemsize
    vectorized = count // (2 * lanes) * (2 * lanes)
    first = xp.where(index < vectorized, index // lanes * lanes, index)
    return first, index - first


def _near_zero(start, step, count: int) -> slice:
    """The indices within a step and a half of where `start + step * i` crosses zero."""
    crossing = -start / step
    return slice(max(0, math.floor(crossing) - 1), max(0, min(count, math.ceil(crossing) + 2)))


def _fused_arange(start, step, first, offset, dtype) -> np.ndarray:
    """float32 and float64 on the host: each vector's first value `fma(step, first, start)`
    rounded to the dtype, the others `fma(offset, step, first value)` in float64, as
    PyTorch's build contracts both (its float32 `Vectorized::arange` adds a double step)."""
    base = fma(step, first, start).astype(dtype)
    return fma(offset, step, base.astype(np.float64)).astype(dtype)


def _half_arange(xp, start, step, first, offset, dtype):
    """float16 and bfloat16 accumulate in float32: each vector's first value is the fused
    float32 `step * first + start`, then its offsets are fused for float16 and rounded twice
    for bfloat16 (PyTorch's two vector types differ). Every product of a float32 and an
    index below 2**29 is exact in float64, and the sum rounded to odd only adds, so this is
    exact in a kernel too (an XLA contraction of an exact product changes nothing)."""
    start32, step32 = np.float32(start), np.float64(np.float32(step))
    base = _fused32(xp, step32 * first.astype(np.float64), start32).astype(dtype)
    base32 = base.astype(np.float32)
    product = step32 * offset.astype(np.float64)
    if dtype == np.float16:
        return _fused32(xp, product, base32).astype(dtype)
    return (base32 + product.astype(np.float32)).astype(dtype)


def _fused32(xp, exact_product, addend):
    """The float32 nearest `exact_product + addend` (a float64 product that is exact)."""
    return odd_sum(exact_product, addend.astype(np.float64), xp).astype(np.float32)


def linspace_values(start, end, steps: int, dtype) -> np.ndarray:
    """`steps` points from `start` to `end` (Python numbers) in `dtype` (real), on the host."""
    dtype = np.dtype(dtype)
    floating = dtype.kind == "f" or dtype.name == "bfloat16"   # ml_dtypes' kind is "V"
    if steps == 1:   # PyTorch fills the one point with `start`
        return np.full((1,), start, dtype if floating else np.float64).astype(dtype)
    index = np.arange(steps, dtype=np.int64)
    lower = index < steps // 2
    back = (steps - 1 - index).astype(np.float64)
    if not floating or dtype.itemsize == 8:    # float64, and integers from float64
        if not floating:   # PyTorch converts the ends to the dtype first
            # (wrapped as c10 converts: -1 is 255 in uint8; `check_fits` refused the rest)
            start, end = (np.array(int(v)).astype(dtype).item() for v in (start, end))
        first, last = np.float64(start), np.float64(end)
        step = (last - first) / np.float64(steps - 1)
        values = np.where(lower, fma(step, index, first),
                          fma(-step, back, last))
        return values if floating else np.trunc(values).astype(dtype)
    if dtype == np.float32:
        first, last = np.float32(start), np.float32(end)
        step = (last - first) / np.float32(steps - 1)
        return np.where(lower, fma32(step, index, first), fma32(-step, back, last))
    return _half_linspace(start, end, steps, dtype, index, lower)


def _half_linspace(start, end, steps, dtype, index, lower) -> np.ndarray:
    """float16 / bfloat16: each operation in float32, rounded to the dtype, as c10::Half."""
    def rounded(x):
        return np.asarray(x, np.float32).astype(dtype).astype(np.float32)

    first, last = rounded(start), rounded(end)
    step = rounded(rounded(last - first) / rounded(steps - 1))
    up = rounded(first + rounded(step * rounded(index)))
    down = rounded(last - rounded(step * rounded(steps - 1 - index)))
    return np.where(lower, up, down).astype(dtype)


def libm_pow(base: float, exponents) -> np.ndarray:
    """float64 `base ** x` for each exponent, by C's `pow()` (`math.pow`) one at a time, as
    PyTorch's CPU logspace computes it.
    NOTE: not `np.power`: on an AVX-512 host NumPy takes a SIMD approximation for float64
    powers that is an ulp off for some exponents (54 points of logspace(-7.1, 13.3, 1000) on a
    Zen 4 CPU), so logspace's bits depended on the machine."""
    values = []
    for x in np.asarray(exponents, np.float64).reshape(-1).tolist():
        try:
            values.append(math.pow(base, x))
        except (OverflowError, ValueError):   # an infinity or a NaN: nothing to round
            with np.errstate(all="ignore"):
                values.append(float(np.power(np.float64(base), np.float64(x))))
    return np.array(values, np.float64)


def logspace_values(start, end, steps: int, base: float, dtype) -> np.ndarray:
    """`steps` powers of `base` (Python numbers) in the floating `dtype`, on the host."""
    dtype = np.dtype(dtype)
    if steps == 1:
        return libm_pow(base, [start]).astype(dtype)
    narrow = np.float32 if dtype.itemsize < 8 else np.float64   # as c10's Half math
    first, last = (np.asarray(v, dtype).astype(narrow) for v in (start, end))
    step = np.asarray(last - first).astype(dtype).astype(np.float64) / np.float64(steps - 1)
    first, last = np.float64(first), np.float64(last)
    index = np.arange(steps, dtype=np.int64)
    exponents = np.where(index < steps // 2, first + step * index,
                         last - step * (steps - 1 - index))
    with np.errstate(over="ignore"):
        return libm_pow(base, exponents).astype(dtype)
