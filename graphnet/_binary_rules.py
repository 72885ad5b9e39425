"""Binary arithmetic's promotion rules, PyTorch's where JAX's differ: a NumPy number is the
Python number it holds, an integer tensor with a Python float is float32, a 0-d tensor raises
the kind but not the width, integer divisions refuse zero divisors, and half precision with a
Python number computes mul, div and floor division in float32. `_math._binary` is where every
binary op's arguments pass (graphnet/_math.py)."""

from __future__ import annotations

import math


from ._numpy_numbers import python_number

from . import _dtype as dt
from ._default_dtype import default_float
from ._arith_checks import nonzero_divisor
from ._complex_numbers import COMPLEX_NUMBERS, complex_number_error
from ._dispatch import dispatch
from ._grad_fn_names import computed_wider
from ._tensor import Tensor

_INEXACT = "fc"


def _is_float(x) -> bool:
    return x._value.dtype.kind in _INEXACT or x._value.dtype.name == "bfloat16"


# A NumPy number (`np.sqrt(d)`, `np.float32(0.5)`) as the Python number PyTorch reads: `x *
# np.float64(2.0)` stays float32 (JAX made it float64), and `int_t + np.bool_(True)` is float32
_python_number = python_number

_INT64_MAX = 2**63 - 1


def _unsigned_64(a, b):
    """A Python int from 2**63 to 2**64 - 1 (FNV-1a's offset basis, a 64-bit mask `x &
    0xFFFFFFFFFFFFFFFF`, `x * 2**63`) beside a tensor, as PyTorch reads it: a float beside a
    floating tensor, else its 64-bit two's-complement value (`x + 2**63` wraps). JAX refused
    the number with an OverflowError; a wider one stays refused, as in PyTorch."""
    def read(n, other):
        if type(n) is int and _INT64_MAX < n < 2**64 and isinstance(other, Tensor):
            if other.dtype == dt.bool_:   # PyTorch reads the number as uint64 and stops
                raise RuntimeError("Promotion for uint16, uint32, uint64 types is not "
                                   "supported, attempted to promote Bool and UInt64")
            return float(n) if _is_float(other) else n - 2**64
        return n
    return read(a, b), read(b, a)


def _promote_scalar(a, b):
    """PyTorch's rule: an integer tensor combined with a Python float takes the default float
    dtype (float32 unless set_default_dtype changed it). graphnet's kernels run with JAX's
    64-bit types on (graphnet/_x64.py), where JAX would make int64 and a Python float
    float64."""
    if isinstance(a, Tensor) and isinstance(b, float) and not _is_float(a):
        a = a.to(default_float())
    if isinstance(b, Tensor) and isinstance(a, float) and not _is_float(b):
        b = b.to(default_float())
    return a, b


def _binary(name: str, a, b):
    a, b = _python_number(a), _python_number(b)
    if type(a) is int or type(b) is int:
        a, b = _unsigned_64(a, b)
    a, b = _complex_operands(name, a, b)
    a, b = _promote_scalar(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and (a.dim() == 0) != (b.dim() == 0) \
            and a.dtype != b.dtype:
        if name in _OPMATH and _half_and_wider_scalar(a, b):
            # a 0-d float tensor acts as a number: PyTorch reads it in float32, does not
            # round it to half first (fp16 x * tensor(1/500.005) was 1 ulp off for 23%)
            half = a.dtype if a.dim() else b.dtype
            return computed_wider(dispatch(name, a.to(dt.float32), b.to(dt.float32)).to(half),
                                  name)
        a, b = _zero_dim_promotion(a, b)
    if name in _INTEGER_DIVISIONS:
        b = nonzero_divisor(a, b)
    if name in _OPMATH and _half_and_number(a, b):
        # PyTorch computes a half-precision op in float32 and rounds once; JAX rounded the
        # number to half first (bf16 * 3.7 was 48.25, PyTorch's 48.0)
        half = a.dtype if isinstance(a, Tensor) else b.dtype
        a, b = (x.to(dt.float32) if isinstance(x, Tensor) else x for x in (a, b))
        return computed_wider(dispatch(name, a, b).to(half), name)
    return dispatch(name, a, b)


# a real tensor equals a complex number exactly where the number is real: the bool result
# is PyTorch's, so these two take one
_EXACT_WITH_COMPLEX = frozenset({"eq", "ne"})


def _complex_operands(name: str, a, b):
    """graphnet has no complex dtype: a complex number (`x * 1j`) is refused (dispatch refuses
    it too: graphnet/_complex_numbers.py), except by eq and ne, where `x == c` is `x == c.real`
    for a real `c` and False everywhere (NaN compares unequal) otherwise."""
    if not isinstance(a, COMPLEX_NUMBERS) and not isinstance(b, COMPLEX_NUMBERS):
        return a, b
    if name not in _EXACT_WITH_COMPLEX:
        raise complex_number_error(name, a if isinstance(a, COMPLEX_NUMBERS) else b)
    a, b = (_real_or_nan(x) for x in (a, b))
    return a, b


def _real_or_nan(x):
    if not isinstance(x, COMPLEX_NUMBERS):
        return x
    return float(x.real) if x.imag == 0 else math.nan


_INTEGER_DIVISIONS = frozenset({"floor_divide", "remainder", "fmod"})
# NOTE: measured against PyTorch 2.13 over bf16 and fp16 values and numbers: mul, div and
# floor division compute in float32; add, sub, pow, remainder and fmod round the number to the
# tensor's dtype first (as JAX does).
_OPMATH = frozenset({"mul", "div", "floor_divide"})


def _half_and_number(a, b) -> bool:
    """A float16 or bfloat16 tensor with a Python number."""
    if isinstance(a, Tensor) == isinstance(b, Tensor):
        return False
    t, n = (a, b) if isinstance(a, Tensor) else (b, a)
    return t.dtype.name in ("float16", "bfloat16") and isinstance(n, (int, float)) \
        and not isinstance(n, bool)


def _half_and_wider_scalar(a, b) -> bool:
    """A float16/bfloat16 tensor of some dims with a 0-d float32 or float64 tensor."""
    t, s = (a, b) if a.dim() else (b, a)
    return t.dtype.name in ("float16", "bfloat16") and s.dtype.name in ("float32", "float64")


def _zero_dim_promotion(a, b):
    """PyTorch's rule for a 0-d tensor with a tensor of more dims: the 0-d one can raise the
    kind (int -> float) but not the width (float32 * 0-d float64 is float32). JAX would
    promote to float64."""
    from ._dtype_methods import result_type   # NOTE: it builds on this module

    target = result_type(a, b)
    return (a if a.dtype == target else a.to(target)), (b if b.dtype == target else b.to(target))
