"""Tensor factories: `tensor`, `zeros`, `randn` ... with PyTorch's dtype defaults."""

from __future__ import annotations

import functools
import operator

import jax
import numpy as np

from . import _autograd
from . import _device
from . import _dtype as dt
from . import _host
from . import _random
from ._arith_checks import check_fits
from ._complex_numbers import fill_number, real_array
from ._default_dtype import default_float
from ._dispatch import current_mode, dispatch
from ._mode import made_from_data, tracing  # noqa: F401  (tracing: graphnet.tracing)
from ._numpy_numbers import python_number
from ._tensor import Tensor
from ._tensor_copies import copy_of_tensor
from ._tensor_data import flat, has_typed_leaves, typed_array
from ._x64 import x64, x64_scoped


@x64_scoped   # int64/float64 data stays 64-bit (graphnet/_x64.py)
def as_array(data, dtype=None):
    """Convert array-like `data` to a jax array with PyTorch's inference: Python floats become
    the default dtype (`default_float()`), Python ints int64, NumPy arrays keep their dtype."""
    np_dtype = dt.to_np(dtype)
    if isinstance(data, Tensor):   # NOTE: _concrete: a captured tensor's values are guarded
        value = data._concrete("tensor()") if isinstance(data._value, jax.Array) else data._value
        return value if np_dtype is None or value.dtype == np_dtype else value.astype(np_dtype)
    if isinstance(data, jax.Array):
        return data if np_dtype is None else data.astype(np_dtype)
    if isinstance(data, (list, tuple)) and has_typed_leaves(data):
        # NumPy numbers, arrays or tensors inside: their dtypes count (_tensor_data.py)
        return _host.put(typed_array(data, np_dtype))
    is_numpy = isinstance(data, (np.ndarray, np.generic))
    array = real_array(data)   # np.asarray, complex refused (graphnet/_complex_numbers.py)
    if not is_numpy and _int_past_long_long(data, array, np_dtype):
        raise ValueError("Overflow when unpacking long long")
    if not is_numpy and array.dtype.kind == "O" and _numbers(data):
        # NOTE: an int past int64 beside a float: NumPy keeps objects, PyTorch makes a float
        # tensor (`tensor([[1.5], [2**70]])` raised "mixed objects")
        array = np.asarray(data, dtype=np.float64)
    if np_dtype is not None and not is_numpy and array.dtype.kind in "iuf" and array.size:
        for extreme in (array.max(), array.min()):     # Python numbers: PyTorch checks each
            check_fits(extreme.item(), np_dtype, of_tensor=True)
    if np_dtype is None:
        if array.dtype == np.float64 and not is_numpy:
            np_dtype = default_float().np
        elif array.dtype.kind in "iu" and not is_numpy:
            if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
                # NumPy holds 2**63 as uint64; int64 would wrap it to -2**63
                raise ValueError("Overflow when unpacking long long")
            np_dtype = dt.int64.np
        elif array.dtype.kind == "O":
            raise TypeError(f"can't convert {type(data).__name__} of mixed objects to a tensor")
        elif not dt.known_np(array.dtype):   # uint16, complex64 ...: no graphnet dtype
            raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype.name}. The "
                            f"only supported types are: {dt.supported_names()}.")
    return _host.put(array, np_dtype)


def _leaves(data) -> list:
    return list(flat(data)) if isinstance(data, (list, tuple)) else [data]


def _int_past_long_long(data, array: np.ndarray, np_dtype) -> bool:
    """Whether PyTorch would unpack a Python int of `data` as a C long long and overflow: an
    int outside int64's range, where the dtype (given, or inferred from ints alone) is an
    integer one. Floats beside it make a float tensor, which holds it rounded.

    NOTE: NumPy holds `[2**63, 1]` as float64 (uint64 beside int64), so it became a float32
    tensor where PyTorch raises; such data is told from floats by looking at its leaves."""
    if array.dtype.kind not in "fuO" or not array.size:
        return False
    if array.dtype.kind == "f" and not np.abs(array).max() >= 2.0 ** 63:
        return False   # the common case: no int can be that large, no leaf is looked at
    leaves = _leaves(data)
    integral = all(isinstance(x, int) for x in leaves) if np_dtype is None else \
        np.dtype(np_dtype).kind in "iu"
    return integral and any(isinstance(x, int) and not -2 ** 63 <= x < 2 ** 63
                            for x in leaves)


def _numbers(data) -> bool:
    """Whether `data` (a number or nested lists) holds Python ints and floats only."""
    return all(isinstance(x, (int, float)) for x in _leaves(data))


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays); of a
    tensor, a detached copy, with PyTorch's warning (graphnet/_tensor_copies.py)."""
    if isinstance(data, Tensor):
        return _finish(copy_of_tensor(data, dtype, "graphnet.tensor"), requires_grad, device)
    return _finish(made_from_data(Tensor._wrap(as_array(data, dtype))), requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """`data` itself when it is a tensor of `dtype` already; a tensor cast with `.to`
    (in the graph: gradients flow back, as PyTorch's ToCopyBackward0); else `tensor(data)`."""
    if isinstance(data, Tensor):
        data = data if dtype is None or data.dtype == dtype else data.to(dtype)
        return data if device is None else data.to(device)
    return tensor(data, dtype=dtype, device=device)


@x64_scoped
def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor holding a copy of `array` (PyTorch shares the NumPy buffer; JAX arrays are
    immutable, so a later change to `array` does not reach the tensor)."""
    if not isinstance(array, np.ndarray):
        kind = type(array)
        prefix = "numpy." if kind.__module__ == "numpy" else ""
        raise TypeError(f"expected np.ndarray (got {prefix}{kind.__name__})")
    if not dt.known_np(array.dtype):
        raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype.name}. The only "
                        f"supported types are: {dt.supported_names()}.")
    return made_from_data(Tensor._wrap(_host.put(array)))


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return _sizes(tuple(_size_int(s, i) for i, s in enumerate(size)))


def _size_int(s, position: int) -> int:
    """One size: an integer (a NumPy one, a one-element integer tensor). NOTE: `int(s)` took
    a float too, so `zeros(n * 0.5)` quietly truncated where PyTorch raises TypeError."""
    if isinstance(s, bool) or not hasattr(type(s), "__index__"):
        raise TypeError(f"argument 'size' must be tuple of ints, but found element of type "
                        f"{type(s).__name__} at pos {position}")
    return operator.index(s)


def _size_keyword(fn):
    """`fn(*size, ...)` also taking PyTorch's `size=` keyword (`torch.ones(size=(2, 3))`)."""
    @functools.wraps(fn)
    def factory(*size, **kwargs):
        if "size" in kwargs:
            if size:
                raise TypeError(f"{fn.__name__}() got multiple values for argument 'size'")
            size = (kwargs.pop("size"),)
        return fn(*size, **kwargs)
    return factory


def _sizes(shape: tuple) -> tuple:
    """`shape`, or PyTorch's error for a negative size (JAX's would come from deep inside
    a kernel, or, for a random draw, from MLIR)."""
    for d in shape:
        if d < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {d}: "
                               f"{list(shape)}")
    return shape


def _finish(t: Tensor, requires_grad: bool, device=None) -> Tensor:
    """`t` on `device`, made to require grad if asked (floating point only, as in PyTorch)."""
    t._value = _device.place(t._value, device)
    if _autograd.grad_mode.inference:   # made under inference_mode(): an inference tensor
        _autograd.mark_inference((t,))
    if requires_grad:
        _autograd.check_can_require_grad(t._value.dtype, _autograd.GRAD_DTYPE_FACTORY,
                                         "ask for a floating point dtype, e.g. "
                                         "dtype=graphnet.float32")
        t.requires_grad = True
    return t


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
         pin_memory=False) -> Tensor:
    # a 0-d tensor's number, a NumPy number's (np.int64(7): int64); complex refused
    fill_value = python_number(fill_number(fill_value))
    if dtype is None:
        dtype = dt.bool_ if isinstance(fill_value, bool) else \
            dt.int64 if isinstance(fill_value, int) else default_float()
    shape = _shape((size,)) if not isinstance(size, int) else _sizes((size,))
    # NOTE: PyTorch's fill of a one-element tensor skips its range check (float16's 1e6
    # becomes inf there, and is refused for any other size)
    check_fits(fill_value, dt.to_np(dtype), fill=int(np.prod(shape)) == 1)
    if current_mode() is None:  # eagerly the value is a runtime argument: no compile per value
        with x64():
            value = _host.full(shape, fill_value, dt.to_np(dtype))
        return _finish(Tensor._wrap(value), requires_grad, device)
    t = dispatch("full", shape=shape, value=fill_value, dtype=dt.to_np(dtype))
    return _finish(t, requires_grad, device)


@_size_keyword
def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False, memory_format=None) -> Tensor:
    if any(d < 0 for d in (size[0] if len(size) == 1 and isinstance(size[0], (tuple, list))
                           else size)):
        raise RuntimeError("zeros: Dimension size must be non-negative.")   # PyTorch's words
    return full(_shape(size), 0.0 if dtype is None else 0, dtype=dtype or default_float(),
                device=device, requires_grad=requires_grad)


@_size_keyword
def ones(*size, dtype=None, device=None, requires_grad=False, layout=None,
         pin_memory=False) -> Tensor:
    return full(_shape(size), 1.0 if dtype is None else 1, dtype=dtype or default_float(),
                device=device, requires_grad=requires_grad)


empty = zeros


def _like_device(input, device):
    """A *_like factory's device: the one asked for, else `input`'s when that is not the
    default device (cheap: the common case places nothing)."""
    if device is not None:
        return device
    value = getattr(input, "_value", None)
    # NOTE: a JAX tracer is a jax.Array without devices (a custom Function's backward runs
    # graphnet ops on tracers inside a compiled program): it stays where the program runs.
    if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer) \
            and jax.devices()[0] not in value.devices():
        return input.device
    return None


def batched_like(input, t: Tensor) -> Tensor:
    """`t`, made from `input` by a *_like or new_* factory: batched as `input` is inside
    `vmap` (graphnet/_func_vmap.py), so a write of batched values into it works as in
    PyTorch (an unbatched zeros_like raised there)."""
    like = getattr(current_mode(), "batched_like", None)
    return t if like is None else like(input, t)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None) -> Tensor:
    return batched_like(input, zeros(tuple(input.shape), dtype=dtype or input.dtype,
                                     device=_like_device(input, device),
                                     requires_grad=requires_grad))


def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None) -> Tensor:
    return batched_like(input, ones(tuple(input.shape), dtype=dtype or input.dtype,
                                    device=_like_device(input, device),
                                    requires_grad=requires_grad))


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None) -> Tensor:
    return batched_like(input, full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                                    device=_like_device(input, device),
                                    requires_grad=requires_grad))


empty_like = zeros_like


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-d tensor holding the number `s` (the default dtype unless `dtype` says otherwise)."""
    return full((), s, dtype=dtype or default_float(), device=device, requires_grad=requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    for name, size in (("n", n), ("m", m)):
        if size is not None and size < 0:   # NumPy's eye gave an empty matrix
            raise RuntimeError(f"{name} must be greater or equal to 0, got {size}")
    t = tensor(np.eye(n, m if m is not None else n), dtype=dtype or default_float())
    return _finish(t, requires_grad, device)


def _random_op(op, size, dtype, generator, *params, **attrs):
    # `dtype=float` is float64; `dtype=complex` raises (dt.to_np)
    dtype = dt.from_np(dt.to_np(dtype)) if dtype is not None else default_float()
    if op in ("uniform", "normal"):
        _random.check_draw(op, dtype, params)
    key = _random.key(generator)
    return dispatch(op, key, *params, shape=_shape(size), dtype=dt.to_np(dtype), **attrs)


@_size_keyword
def randn(*size, dtype=None, device=None, generator=None, requires_grad=False, layout=None,
          pin_memory=False) -> Tensor:
    return _finish(_random_op("normal", size, dtype, generator), requires_grad, device)


@_size_keyword
def rand(*size, dtype=None, device=None, generator=None, requires_grad=False, layout=None,
         pin_memory=False) -> Tensor:
    return _finish(_random_op("uniform", size, dtype, generator), requires_grad, device)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
               memory_format=None, generator=None) -> Tensor:
    return randn(tuple(input.shape), dtype=dtype or input.dtype, generator=generator,
                 device=_like_device(input, device), requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None, generator=None) -> Tensor:
    return rand(tuple(input.shape), dtype=dtype or input.dtype, generator=generator,
                device=_like_device(input, device), requires_grad=requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    """Integers drawn uniformly from [low, high); `randint(high, size)` starts at 0."""
    if size is None:   # randint(high, size)
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if any(isinstance(bound, (float, np.floating)) for bound in (low, high)):
        raise TypeError(f"randint(): the bounds must be integers, got "
                        f"({type(low).__name__}, {type(high).__name__})")
    low, high, dtype = int(low), int(high), dtype or dt.int64   # 0-d tensors as numbers
    _check_range("random_", low, high)
    _random.check_integer_bounds(dtype, low, high)
    draw = dt.int64 if dtype.is_floating_point or dtype is dt.bool_ else dtype
    t = _random_op("randint", (tuple(size),), draw, generator, low=low, high=high)
    return _finish(t if draw is dtype else t.to(dtype), requires_grad, device)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 layout=None, memory_format=None, generator=None) -> Tensor:
    """randint with `input`'s shape (and dtype, unless given): `randint_like(x, high)`."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   generator=generator, device=_like_device(input, device),
                   requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False) -> Tensor:
    dtype = dtype or dt.int64
    if dtype is dt.bool_:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if isinstance(n, bool) or not hasattr(type(n), "__index__"):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    _random.check_permutation_size(int(n), dtype)
    key = _random.key(generator)
    t = dispatch("randperm", key, n=_sizes((int(n),))[0], dtype=dt.to_np(dtype))
    return _finish(t, requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    """Normal draws: `normal(mean, std, size)` with numbers, or with tensors `mean` and/or
    `std` (broadcast together; their gradient is zero, as PyTorch's)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        shapes = [tuple(v.shape) for v in (mean, std) if isinstance(v, Tensor)]
        like = mean if isinstance(mean, Tensor) else std
        from ._shape_more import broadcast_shapes   # PyTorch's RuntimeError for a mismatch

        noise = _random_op("normal", broadcast_shapes(*shapes), like.dtype, generator)
        loc = mean.detach() if isinstance(mean, Tensor) else mean
        scale = checked_values(std.detach(), "std") if isinstance(std, Tensor) else \
            _check_std(std)
        return _random.zero_grad_to(noise * scale + loc, mean, std)
    if size is None:   # PyTorch's argument parser: numbers need a size
        raise TypeError("normal(): with a number mean and std, the size argument is required")
    std = float(_check_std(std))
    t = _random_op("normal", (tuple(size),), dtype, generator, float(mean), std)
    return _finish(t, requires_grad, device)


def _check_range(name: str, low, high) -> None:
    if low >= high:
        raise RuntimeError(f"{name} expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")


def _check_std(std):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return std


def checked_values(x: Tensor, rule: str) -> Tensor:
    """`x`, after PyTorch's check of a distribution's parameters (`rule`, one of
    _ops/checked.py's PARAMETER_RULES) on its values: eagerly before anything runs, in a
    compiled call as the op table's other value checks (compiler/checks.py)."""
    return dispatch("checked_parameters", x, rule=rule)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


# NOTE: last, as they build on `tensor` and `_finish` above
from ._range_factories import arange, linspace, logspace, range  # noqa: E402,F401
