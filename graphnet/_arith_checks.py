"""PyTorch's refusals of arithmetic arguments that JAX would take: subtraction with a bool
tensor, an `alpha` of the wrong kind (`graphnet.add` / `graphnet.sub`), an integer division
by zero (or by False). Before, each ran and
gave a number (a bool minus 1; `add(ints, ints, alpha=2.5)` made float32)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from . import _dtype as dt
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
    if alpha == 1 and type(alpha) is int:
        return
    floating = _is_floating(input) or _is_floating(other)
    if isinstance(alpha, bool) and (floating or _is_bool(input) + _is_bool(other) < 2):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if isinstance(alpha, float) and not floating:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


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
    if not integer_result:
        return b
    if not isinstance(b, Tensor):
        if b == 0:
            raise RuntimeError("ZeroDivisionError")
        return b
    from ._factories import checked_values

    return checked_values(b, "divisor")


# the C++ names PyTorch's scalar conversion prints ("value cannot be converted to type
# uint8_t without overflow"); `tensor([...], dtype=...)` prints the dtype's own name
_SCALAR_TYPE = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                "int64": "int64_t", "float32": "float", "float16": "c10::Half",
                "bfloat16": "c10::BFloat16"}


def check_fits(value, np_dtype, of_tensor: bool = False) -> None:
    """PyTorch's refusal of a Python number that the tensor's dtype cannot hold (`fill_(300)`
    on uint8, `clamp(max=300)`, `x[0] = 300`); XLA wrapped it (300 became 44). Its rule:
    signed integers hold [min, max], uint8 any value up to 255 (a negative one wraps), no
    integer holds NaN, float32 and float16 no finite value past their range (`of_tensor`:
    `tensor([...], dtype=...)`, which checks integer dtypes only)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    dtype = np.dtype(np_dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        bad = value != value or value > info.max or (dtype.kind == "i" and value < info.min)
    elif dtype.name in ("float32", "float16", "bfloat16") and not of_tensor:
        bad = math.isfinite(value) and abs(value) > float(jnp.finfo(dtype).max)
    else:
        return
    if bad:
        name = dtype.name if of_tensor else _SCALAR_TYPE.get(dtype.name, dtype.name)
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
