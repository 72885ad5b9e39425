"""PyTorch's refusals of arithmetic arguments that JAX would take: subtraction with a bool
tensor, an `alpha` of the wrong kind (`graphnet.add` / `graphnet.sub`), an integer division
by zero (or by False). Before, each ran and
gave a number (a bool minus 1; `add(ints, ints, alpha=2.5)` made float32)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from . import _dtype as dt
from ._errors import shape_error
from ._ops._promote import not_implemented
from ._tensor import Tensor


def refuse_bool_subtraction(input, other) -> None:
    bools = _is_bool(input) + _is_bool(other)
    if bools == 2:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if bools:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


def check_alpha(input, other, alpha) -> None:
    if type(alpha) is int and alpha == 1:   # (a 0-d tensor alpha: no bool() of it)
        return
    floating = _is_floating(input) or _is_floating(other)
    if isinstance(alpha, bool) and (floating or _is_bool(input) + _is_bool(other) < 2):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and not floating:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def zero_d_beside_number(min, max):
    """clamp's bounds, where a 0-d tensor that requires no grad beside a number takes
    PyTorch's number overload: both become 0-d tensors (the overload reads the value)."""
    if min is None or max is None or isinstance(min, Tensor) == isinstance(max, Tensor):
        return min, max
    bound = next(b for b in (min, max) if isinstance(b, Tensor))
    if bound.dim() != 0 or bound.requires_grad:
        return min, max   # refuse_bool_clamp raises PyTorch's TypeError
    from ._factories import tensor

    return tuple(b if isinstance(b, Tensor) else tensor(b) for b in (min, max))


def refuse_bool_clamp(input, min, max) -> None:
    """Bounds of two kinds (a Tensor and a number) raise PyTorch's TypeError. PyTorch has
    no clamp kernel for bool results: `clamp(mask, False, True)` raises (a
    number bound of another kind promotes and runs: `clamp(mask, 0, 1)` is int64), and so do
    two bool tensor bounds; one bool tensor bound alone runs (PyTorch's maximum/minimum)."""
    if min is not None and max is not None and isinstance(min, Tensor) != isinstance(max, Tensor):
        # PyTorch's overloads take two Tensor bounds or two numbers (it gave a result here)
        kinds = ", ".join(f"{k}={'Tensor' if isinstance(v, Tensor) else type(v).__name__}"
                          for k, v in (("min", min), ("max", max)))
        raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, "
                        f"{kinds}): both bounds are Tensors or both are numbers (or None)")
    bounds = [b for b in (min, max) if b is not None]
    if not _is_bool(input) or not all(_is_bool(b) for b in bounds):
        return
    scalar = any(not isinstance(b, Tensor) for b in bounds)
    if len(bounds) == 2:
        kernel = "clamp_scalar_cpu" if scalar else "clamp_cpu"
    elif scalar:
        kernel = "clamp_min_scalar_cpu" if max is None else "clamp_max_scalar_cpu"
    else:
        return
    raise not_implemented(kernel, dt.bool_)


def _is_bool(x) -> bool:
    return isinstance(x, bool) or isinstance(x, Tensor) and x.dtype is dt.bool_


def _is_floating(x) -> bool:
    if isinstance(x, float):
        return True
    return isinstance(x, Tensor) and (x.dtype.is_floating_point or x.dtype.is_complex)


def _integral(x) -> bool:
    if isinstance(x, Tensor):
        return not _is_floating(x) and x.dtype.name != "bool"
    return isinstance(x, int) and not isinstance(x, bool)


def _integral_or_bool(x) -> bool:
    return not _is_floating(x) if isinstance(x, Tensor) else isinstance(x, int)


def nonzero_divisor(a, b):
    """PyTorch raises for an integer division by zero (XLA returns a number), a False divisor
    included (`ints // False`): a number is checked here, a tensor by the checked_parameters
    op (eagerly, or in a compiled call). Two bools are refused by the kernels."""
    integer_result = (_integral(a) or _integral(b)) and \
        _integral_or_bool(a) and _integral_or_bool(b)
    if not integer_result or _empty_result(a, b):   # no element divided: PyTorch passes
        return b
    if not isinstance(b, Tensor):
        # a Python int is taken in an integer tensor's dtype first: `uint8 // 256` divides by 0
        bits = 8 * np.dtype(a.dtype.np).itemsize if isinstance(a, Tensor) and _integral(a) \
            and isinstance(b, int) else None
        if b == 0 or (bits is not None and b % (1 << bits) == 0):
            raise RuntimeError("ZeroDivisionError")
        return b
    from ._factories import checked_values

    return checked_values(b, "divisor")


def _empty_result(a, b) -> bool:
    shapes = [tuple(x.shape) for x in (a, b) if isinstance(x, Tensor)]
    if not any(0 in shape for shape in shapes):
        return False
    try:
        return 0 in np.broadcast_shapes(*shapes)
    except ValueError:   # the division's own shape error says it
        return False


# the C++ names PyTorch's scalar conversion prints ("value cannot be converted to type
# uint8_t without overflow"); `tensor([...], dtype=...)` prints the dtype's own name
_SCALAR_TYPE = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                "int64": "int64_t", "float32": "float", "float16": "c10::Half",
                "bfloat16": "c10::BFloat16"}


def check_fits(value, np_dtype, of_tensor: bool = False, fill: bool = False,
               negative_wraps: bool = True) -> None:
    """PyTorch's refusal of a Python number that the tensor's dtype cannot hold (`fill_(300)`
    on uint8, `clamp(max=300)`, `x[0] = 300`); XLA wrapped it (300 became 44). Its rule:
    signed integers hold [min, max], uint8 [-255, 255] (a negative one wraps), no
    integer holds NaN, float32 and float16 no finite value past their range (`of_tensor`:
    `tensor([...], dtype=...)`, which checks integer dtypes only). `fill`: a number PyTorch
    writes unchecked, which float16/bfloat16 round to inf past their range (measured:
    `x[i] = 1e6` on float16 and `full((1,), 1e6, dtype=float16)` give inf, while
    `full((2,), 1e6, ...)`, masked_fill and clamp refuse it). `negative_wraps=False`: an
    unsigned type refuses every negative number (F.pad's value: `pad(uint8, value=-1)`)."""
    if fill and np.dtype(np_dtype).name in ("float16", "bfloat16"):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    dtype = np.dtype(np_dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        # NOTE: c10's rule for an unsigned type takes a negative number down to -max
        # (-1 is 255, -255 is 1, -256 is refused)
        low = info.min if dtype.kind == "i" else -info.max if negative_wraps else 0
        bad = value != value or value > info.max or value < low
    elif dtype.name in ("float32", "float16", "bfloat16") and not of_tensor:
        bad = math.isfinite(value) and abs(value) > float(jnp.finfo(dtype).max)
    else:
        return
    if bad:
        name = dtype.name if of_tensor else _SCALAR_TYPE.get(dtype.name, dtype.name)
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def check_scalar_fits(value, dtype, *, opmath: bool = False) -> None:
    """`check_fits` for a Python number an op reads in `dtype` (a graphnet dtype): where's
    other side, index_fill's value, add's alpha (`int8.add(y, alpha=300)` wrapped to 44).
    `opmath`: ops whose half-precision kernel reads the number in float32 (lerp's weight,
    addcmul's value), so only a number past float32's range is refused there."""
    if opmath and dtype.name in ("float16", "bfloat16"):
        dtype = dt.float32
    check_fits(value, dtype.np)


def integral_scalar(value, dtype, *, opmath: bool = False):
    """PyTorch's scalar conversion for an op computing in `dtype`: a Python float read by an
    integer op is truncated toward zero (`index_add(..., alpha=2.7)` on int64 scales by 2;
    graphnet scaled by 2.7 and cast the sum); the number is checked to fit first."""
    check_scalar_fits(value, dtype, opmath=opmath)
    if isinstance(value, float) and not (dtype.is_floating_point or dtype.is_complex) \
            and dtype is not dt.bool_:
        return int(value)
    return value


def check_where_number(input, other) -> None:
    """PyTorch writes where's Python number into a tensor of the result dtype, refusing one
    that does not fit (`where(c, int8s, 300)`; XLA wrapped it to 44). Measured: an integer
    or float32 result is checked, a float16/bfloat16 one is not (1e40 becomes inf)."""
    for number, tensor in ((input, other), (other, input)):
        if isinstance(tensor, Tensor) and isinstance(number, (int, float)) \
                and not isinstance(number, bool):
            from ._dtype_methods import result_type   # NOTE: it builds on _math

            kind = result_type(tensor, number)
            if kind.name not in ("float16", "bfloat16"):
                check_scalar_fits(number, kind)


def check_alpha_fits(name: str, input, other, alpha) -> None:
    """add/sub's `alpha` read in the result dtype (int8 with alpha=300 wrapped to 44).
    PyTorch's sub is add with -alpha, and that is the number it checks."""
    if isinstance(alpha, bool) or not (isinstance(input, Tensor) or isinstance(other, Tensor)):
        return
    from ._dtype_methods import result_type   # NOTE: it builds on _math

    check_scalar_fits(-alpha if name == "sub" else alpha, result_type(input, other))


def check_exponent_fits(input, exponent) -> None:
    """PyTorch reads a Python exponent of the tensor's own kind in the tensor's dtype, refusing
    one that does not fit: `uint8 ** 300` and `float16 ** 1e5` raise (graphnet wrapped the
    first to 0, 113, 1 and gave inf for the second); float32 and float64 read it in double,
    and a bool tensor's power is int64."""
    if not isinstance(input, Tensor) or isinstance(exponent, bool) \
            or not isinstance(exponent, (int, float)) or input.dtype is dt.bool_:
        return
    if input.dtype.is_floating_point:
        if input.dtype.name in ("float16", "bfloat16"):
            check_scalar_fits(exponent, input.dtype)
    elif isinstance(exponent, int):
        check_scalar_fits(exponent, input.dtype)


def check_broadcast(a_shape, b_shape) -> None:
    """PyTorch's error for shapes that do not broadcast, in its words (`x.masked_fill(mask,
    v)` with a mask of another shape named `where`, the op it is built on)."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    rank = max(len(a_shape), len(b_shape))
    a_full = (1,) * (rank - len(a_shape)) + a_shape
    b_full = (1,) * (rank - len(b_shape)) + b_shape
    for dim in range(rank - 1, -1, -1):
        a, b = a_full[dim], b_full[dim]
        if a != b and a != 1 and b != 1:
            raise shape_error(f"The size of tensor a ({a}) must match the size of tensor b "
                              f"({b}) at non-singleton dimension {dim}")
