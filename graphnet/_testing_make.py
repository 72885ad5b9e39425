"""`graphnet.testing.make_tensor` (random test inputs in PyTorch's default ranges) and the
deprecated `graphnet.testing.assert_allclose`.

make_tensor draws from the same ranges as `torch.testing.make_tensor`: integers in [-9, 10)
clamped to the dtype (bool in [0, 2)), floats uniform in [-9, 9), or [low, high) when given,
integer bounds rounded up. The values differ from PyTorch's (another generator)."""

from __future__ import annotations

import collections.abc
import functools
import math
import operator
import warnings

__all__ = ["assert_allclose", "make_tensor"]

_FLOATING = ("float16", "bfloat16", "float32", "float64")
_INTEGRAL = ("bool", "uint8", "int8", "int16", "int32", "int64")


def _bounds(low, high, dtype, lowest, highest, default_low, default_high):
    """[low, high) for the draw, checked and clamped to what `dtype` holds (PyTorch's
    `modify_low_high`)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.name in _FLOATING:
        warnings.warn("Passing `low==high` to `graphnet.testing.make_tensor` for floating types "
                      "is deprecated. Use `graphnet.full(...)` instead.", FutureWarning,
                      stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {_torch_name(dtype)} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if dtype.name in _INTEGRAL:
        # NOTE: both ceiled: low so no value falls below it, high because randint's is exclusive
        return math.ceil(low), math.ceil(high)
    return low, high


def _torch_name(dtype) -> str:
    return f"torch.{dtype.name}"


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False, memory_format=None):
    """A tensor of `shape` filled with random values of `dtype`, as torch.testing's.

    >>> graphnet.testing.make_tensor(2, 3, dtype=graphnet.float32, device="cpu", low=0, high=1)
    """
    import graphnet

    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    if requires_grad and dtype.name in _INTEGRAL:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={_torch_name(dtype)}")
    noncontiguous = noncontiguous and functools.reduce(operator.mul, shape, 1) > 1
    if noncontiguous:   # twice the last dim, then every other element: a strided view
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype.name == "bool":
        low, high = _bounds(low, high, dtype, 0, 2, 0, 2)
        result = graphnet.randint(low, high, shape, dtype=dtype, device=device)
    elif dtype.name in _INTEGRAL:
        info = graphnet.iinfo(dtype)
        # NOTE: int64's exclusive top stays its max: randint cannot draw 2**63 - 1 (PyTorch's)
        highest = info.max + (1 if dtype.name != "int64" else 0)
        low, high = _bounds(low, high, dtype, info.min, highest, -9, 10)
        result = graphnet.randint(low, high, shape, dtype=dtype, device=device)
    elif dtype.name in _FLOATING:
        info = graphnet.finfo(dtype)
        low, high = _bounds(low, high, dtype, info.min, info.max, -9, 9)
        result = graphnet.empty(shape, dtype=dtype, device=device)
        if high - low >= info.max:   # uniform_ needs high - low to be finite: halve, draw, double
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by "
                        f"graphnet.testing.make_tensor().")
    if noncontiguous:
        result = result[..., 1::2]   # NOTE: offset 1 also catches offset bugs, as PyTorch's
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if dtype.name in _INTEGRAL else graphnet.finfo(dtype).tiny
    if dtype.name in _FLOATING:
        result.requires_grad_(requires_grad)
    return result


# assert_allclose's tolerances, looser than assert_close's; other dtypes compare exactly
_ALLCLOSE_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5),
                        "float64": (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan: bool = True,
                    msg: str = "") -> None:
    """Deprecated (as in PyTorch): `assert_close` with NaNs equal, no dtype check and looser
    default tolerances (float32: rtol 1e-4, atol 1e-5)."""
    from ._factories import tensor
    from ._tensor import Tensor
    from .testing import assert_close

    warnings.warn("`graphnet.testing.assert_allclose()` is deprecated, as "
                  "`torch.testing.assert_allclose()` is since 1.12. Please use "
                  "`graphnet.testing.assert_close()` instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_ALLCLOSE_TOLERANCES.get(t.dtype.name, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)

