"""Tensor factories: `tensor`, `zeros`, `randn` ... with PyTorch's dtype defaults."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import _autograd
from . import _dtype as dt
from . import _random
from ._dispatch import current_mode, dispatch
from ._mode import tracing  # noqa: F401  (public as graphnet.tracing)
from ._tensor import Tensor
from ._x64 import x64, x64_scoped


@x64_scoped   # int64/float64 data stays 64-bit (graphnet/_x64.py)
def as_array(data, dtype=None):
    """Convert array-like `data` to a jax array with PyTorch's inference: Python floats become
    float32, Python ints int64, NumPy arrays keep their dtype."""
    np_dtype = dt.to_np(dtype)
    if isinstance(data, Tensor):
        value = data._value
        return value if np_dtype is None or value.dtype == np_dtype else value.astype(np_dtype)
    if isinstance(data, jax.Array):
        return data if np_dtype is None else data.astype(np_dtype)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _nested_numpy(data)
    is_numpy = isinstance(data, (np.ndarray, np.generic))
    array = np.asarray(data)
    if np_dtype is None:
        if array.dtype == np.float64 and not is_numpy:
            np_dtype = dt.float32.np
        elif array.dtype.kind in "iu" and not is_numpy:
            np_dtype = dt.int64.np
        elif array.dtype.kind == "O":
            raise TypeError(f"can't convert {type(data).__name__} of mixed objects to a tensor")
    return jnp.asarray(array, np_dtype)


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _nested_numpy(data):
    if isinstance(data, (list, tuple)):
        return [_nested_numpy(x) for x in data]
    return np.asarray(data._concrete("tensor()")) if isinstance(data, Tensor) else data


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays)."""
    return _finish(Tensor._wrap(as_array(data, dtype)), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    return tensor(data, dtype=dtype)


@x64_scoped
def from_numpy(array: np.ndarray) -> Tensor:
    return Tensor._wrap(jnp.asarray(array))


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    """`t`, made to require grad if asked; only floating point tensors can (as in PyTorch)."""
    if requires_grad:
        _autograd.check_can_require_grad(t._value.dtype, _autograd.GRAD_DTYPE_FACTORY,
                                         "ask for a floating point dtype, e.g. "
                                         "dtype=graphnet.float32")
        t.requires_grad = True
    return t


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = dt.bool_ if isinstance(fill_value, bool) else \
            dt.int64 if isinstance(fill_value, int) else dt.float32
    shape = _shape((size,)) if not isinstance(size, int) else (size,)
    if current_mode() is None:  # eagerly the value is a runtime argument: no compile per value
        with x64():
            value = jnp.full(shape, fill_value, dt.to_np(dtype))
        return _finish(Tensor._wrap(value), requires_grad)
    t = dispatch("full", shape=shape, value=fill_value, dtype=dt.to_np(dtype))
    return _finish(t, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(_shape(size), 0.0 if dtype is None else 0, dtype=dtype or dt.float32,
                requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(_shape(size), 1.0 if dtype is None else 1, dtype=dtype or dt.float32,
                requires_grad=requires_grad)


empty = zeros


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return ones(tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


empty_like = zeros_like


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    t = tensor(np.eye(n, m if m is not None else n), dtype=dtype or dt.float32)
    return _finish(t, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dtype = dt.float32 if floats else dt.int64
    t = dispatch("arange", start=start, end=end, step=step, dtype=dt.to_np(dtype))
    return _finish(t, requires_grad)


def linspace(start, end, steps, *, dtype=None, requires_grad=False) -> Tensor:
    t = tensor(np.linspace(start, end, steps), dtype=dtype or dt.float32)
    return _finish(t, requires_grad)


def _random_op(op, size, dtype, generator, *params, **attrs):
    key = _random.key(generator)
    return dispatch(op, key, *params, shape=_shape(size), dtype=dt.to_np(dtype or dt.float32),
                    **attrs)


def randn(*size, dtype=None, device=None, generator=None, requires_grad=False) -> Tensor:
    return _finish(_random_op("normal", size, dtype, generator), requires_grad)


def rand(*size, dtype=None, device=None, generator=None, requires_grad=False) -> Tensor:
    return _finish(_random_op("uniform", size, dtype, generator), requires_grad)


def randn_like(input, *, dtype=None) -> Tensor:
    return randn(tuple(input.shape), dtype=dtype or input.dtype)


def rand_like(input, *, dtype=None) -> Tensor:
    return rand(tuple(input.shape), dtype=dtype or input.dtype)


def randint(low, high=None, size=(), *, dtype=None, generator=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return _random_op("randint", (tuple(size),), dtype or dt.int64, generator, low=low, high=high)


def randperm(n, *, dtype=None, generator=None) -> Tensor:
    key = _random.key(generator)
    return dispatch("randperm", key, n=int(n), dtype=dt.to_np(dtype or dt.int64))


def normal(mean=0.0, std=1.0, size=(), *, generator=None) -> Tensor:
    return _random_op("normal", (tuple(size),), None, generator, float(mean), float(std))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)
