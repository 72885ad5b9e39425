"""`arange`, `linspace`, `logspace` and the deprecated `range`: evenly spaced values whose
bits are PyTorch's (the formulas are graphnet/_ops/_range_values.py)."""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as dt
from ._arith_checks import check_fits
from ._default_dtype import default_float
from ._dispatch import dispatch
from ._factories import _finish, tensor
from ._numpy_numbers import python_number
from ._ops._range_values import libm_pow, linspace_values, logspace_values
from ._tensor import Tensor


def _numbers(*values):
    """0-d tensors and NumPy numbers as the Python numbers PyTorch reads them as."""
    return tuple(python_number(v.item() if isinstance(v, Tensor) else v) for v in values)


def arange(*args, dtype=None, device=None, requires_grad=False, **bounds) -> Tensor:
    """`[start, end)` by `step`, in PyTorch's three forms: `arange(end)`,
    `arange(start, end)` and `arange(start, end, step)`, each given by position or name."""
    start, end, step = _numbers(*_arange_form(args, bounds))
    _check_arange(start, end, step)
    floats = any(isinstance(v, float) for v in (start, end, step))
    if dtype is None:
        dtype = default_float() if floats else dt.int64
    else:   # `dtype=float` is float64 (it reached `.is_floating_point` as Python's type)
        dtype = dt.from_np(dt.to_np(dtype))
    if dtype is dt.bool_:   # PyTorch has no bool range (XLA's iota said so as a ShapeError)
        raise NotImplementedError('"arange_cpu" not implemented for \'Bool\'')
    if floats and not dtype.is_floating_point:
        return _finish(_integer_arange(start, end, step, dtype), requires_grad, device)
    t = dispatch("arange", start=start, end=end, step=step, dtype=dt.to_np(dtype))
    return _finish(t, requires_grad, device)


_ARANGE_FORMS = (("end",), ("start", "end"), ("start", "end", "step"))


def _arange_form(args: tuple, bounds: dict) -> tuple:
    """(start, end, step) from the first of PyTorch's forms the arguments fit, as its
    parser tries them: `arange(end=5)` is the first, `arange(0, end=5)` the second, and
    `arange(5, step=2)` none (the one number is `end`, so a step has no start)."""
    for names in _ARANGE_FORMS:
        if len(args) > len(names) or set(bounds) - set(names) or \
                set(bounds) & set(names[:len(args)]):
            continue
        given = dict(zip(names, args), **bounds)
        if set(names[:2]) - set(given) or any(v is None for v in given.values()):
            continue
        return given.get("start", 0), given["end"], given.get("step", 1)
    got = ", ".join([type(a).__name__ for a in args] +
                    [f"{name}={type(value).__name__}" for name, value in bounds.items()])
    raise TypeError(f"arange() received an invalid combination of arguments - got ({got}), "
                    f"but expected one of: (end), (start, end), (start, end, step)")


def _integer_arange(start, end, step, dtype) -> Tensor:
    """PyTorch's integer range from float bounds: for int64 the bounds and the step are
    truncated first (`arange(0, 2.5, dtype=int64)` is [0, 1]); for the other integer types
    the length comes from the float bounds and the values from the truncated start and step
    (`arange(0, 2.5, dtype=int32)` is [0, 1, 2]). NumPy's rule gave neither."""
    first, stride = int(start), int(step)
    if dtype is dt.int64:
        if stride == 0:   # PyTorch's type for a step truncated to 0
            raise ValueError("step must be nonzero")
        count = max(0, -(-(int(end) - first) // stride))
    else:
        count = max(0, int(np.ceil((float(end) - float(start)) / float(step))))
    values = first + stride * np.arange(count, dtype=np.int64)
    return tensor(values.astype(dt.to_np(dtype)), dtype=dtype)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Deprecated `torch.range`: arange including `end`, of the default dtype by default."""
    import warnings

    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", stacklevel=2)
    if end is None:
        start, end = 0, start
    count = int(np.floor((end - start) / step)) + 1
    values = start + step * np.arange(count)
    dtype = dtype or default_float()
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def _check_arange(start, end, step) -> None:
    """PyTorch's errors for a range it cannot make (NumPy would give an empty one, or divide
    by zero)."""
    values = [float(v) for v in (start, end, step)]
    if not all(np.isfinite(v) for v in values):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if values[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (values[1] - values[0]) * values[2] < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def _check_steps(steps) -> None:
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")


def _real(dtype) -> bool:
    """A dtype the PyTorch formulas are written for: floating or integer, not bool."""
    return dtype is not dt.bool_ and not dtype.is_complex


def _check_ends(start, end, dtype) -> None:
    """PyTorch converts both ends to the dtype first, checked: `linspace(0, 300, 5,
    dtype=uint8)` and `logspace(0, 300, 3, dtype=uint8)` raise (they wrapped to 44)."""
    if _real(dtype):
        for value in (start, end):
            check_fits(value, dtype.np)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`steps` points from `start` to `end`, both included, evenly spaced."""
    _check_steps(steps)
    start, end = _numbers(start, end)
    dtype = dtype or default_float()
    _check_ends(start, end, dtype)
    with np.errstate(all="ignore"):   # an infinite end gives NaNs, as PyTorch's, unwarned
        values = linspace_values(start, end, int(steps), dtype.np) if _real(dtype) else \
            np.linspace(start, end, steps)
    return _finish(tensor(values, dtype=dtype), requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    """`steps` points from base**start to base**end, evenly spaced in the exponent."""
    _check_steps(steps)
    start, end, base = _numbers(start, end, base)
    dtype = dtype or default_float()
    _check_ends(start, end, dtype)
    # an integer dtype takes whole exponent ends, as PyTorch's (logspace(0, 2.5, 4) is 1, 4,
    # 21, 100: the exponents run 0..2)
    if dtype.is_floating_point:
        values = logspace_values(start, end, int(steps), float(base), dtype.np)
    elif int(steps) == 1:   # PyTorch's one point is base**start, converted (and checked)
        value = float(libm_pow(float(base), [start])[0])
        check_fits(value, dtype.np, negative_wraps=False)   # c10's check from a double
        values = [math.trunc(value)]
    else:
        values = libm_pow(float(base), np.linspace(math.trunc(start), math.trunc(end), steps))
    return _finish(tensor(values, dtype=dtype), requires_grad, device)
