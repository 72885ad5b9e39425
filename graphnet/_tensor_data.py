"""`tensor(data)` of nested lists holding NumPy numbers, NumPy arrays or tensors: the dtype
PyTorch infers for them, and their values.

PyTorch gives each leaf a dtype (a Python bool: bool, int: int64, float: the default float;
a NumPy number or array: its own dtype, even np.float64, which is a Python float too; a
tensor: its dtype) and promotes them pairwise with `promote_types` (its table, not NumPy's:
int64 with float16 is float16). So `[np.float64(0.1), 2.0]` is float64, `[np.int32(1), 2]`
int64 and `[np.int32(1), True]` int32. A tensor inside a list stands for its one number
(`item()`), whatever its shape: `[tensor([1.5]), tensor([2.5])]` has shape [2], and a tensor of
several elements is refused. Plain Python lists keep the simpler path in _factories.py."""

from __future__ import annotations

import warnings

import numpy as np

from . import _dtype as dt
from ._default_dtype import default_float
from ._tensor import Tensor


def flat(data):
    """The leaves of nested lists and tuples (a NumPy array is one leaf)."""
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from flat(x)
        else:
            yield x


def integers(data) -> bool:
    """Whether `data` (a number or nested lists of them) holds Python ints only."""
    items = list(flat(data)) if isinstance(data, (list, tuple)) else [data]
    return bool(items) and all(isinstance(x, int) for x in items)


def has_typed_leaves(data) -> bool:
    """Whether nested lists `data` hold a leaf that carries a dtype of its own."""
    return any(isinstance(x, (Tensor, np.generic, np.ndarray)) for x in flat(data))


def _leaf_dtype(x) -> dt.dtype:
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.generic, np.ndarray)):
        if not dt.known_np(x.dtype):   # uint16, complex64 ...: no graphnet dtype
            raise TypeError(f"can't convert np.ndarray of type numpy.{x.dtype.name}. The only "
                            f"supported types are: {dt.supported_names()}.")
        return dt.from_np(x.dtype)
    if isinstance(x, bool):
        return dt.bool_
    if isinstance(x, int):
        return dt.int64
    return default_float()


def inferred_dtype(data) -> dt.dtype:
    """PyTorch's dtype for nested lists `data`: the leaves' dtypes promoted pairwise."""
    from ._dtype_methods import promote_types   # NOTE: it builds on the tensor class

    result = None
    for x in flat(data):
        d = _leaf_dtype(x)
        result = d if result is None else promote_types(result, d)
    return result if result is not None else default_float()


def _number_of(t: Tensor, target: np.dtype):
    """A tensor leaf as PyTorch reads it: its one element (`item()`), with its errors."""
    if t.numel() != 1:
        raise ValueError("only one element tensors can be converted to Python scalars")
    if target.kind in "iub" and t.dtype.is_floating_point:
        # PyTorch converts it with __index__ for an integer target dtype
        raise TypeError("only integer tensors of a single element can be converted to an "
                        "index")
    if t.requires_grad:
        warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                      "unexpected behavior.\nConsider using tensor.detach() first.",
                      UserWarning, stacklevel=5)
    # NOTE: _concrete: a tensor captured by a compiled function is guarded by its values
    return np.asarray(t._concrete("tensor()")).reshape(())


def typed_array(data, np_dtype) -> np.ndarray:
    """Nested lists with NumPy or tensor leaves as one NumPy array, of `np_dtype` or else the
    dtype PyTorch infers."""
    target = np.dtype(np_dtype) if np_dtype is not None else inferred_dtype(data).np

    def values(x):
        if isinstance(x, (list, tuple)):
            return [values(y) for y in x]
        if isinstance(x, Tensor):
            return _number_of(x, target)
        if target.kind in "iub" and _not_an_index(x, target):
            # PyTorch stores a number into an integer tensor with __index__ (np.float64 is a
            # Python float, converted as one)
            raise TypeError(f"'numpy.{type(x).__name__}' object cannot be interpreted as an "
                            f"integer")
        return x

    return np.array(values(data), dtype=target)


def _not_an_index(x, target: np.dtype) -> bool:
    """Whether PyTorch refuses NumPy number `x` in a tensor of integer or bool `target`."""
    if isinstance(x, np.bool_):
        return target.kind != "b"
    return isinstance(x, np.floating) and not isinstance(x, np.float64)
