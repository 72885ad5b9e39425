"""Strided views as copies: as_strided, as_strided_, as_strided_copy, as_strided_scatter.

A graphnet tensor is always contiguous and row-major (Tensor.stride() says so), so the
elements `as_strided(size, stride, offset)` would view are known positions of the flattened
tensor: element [i, j, ...] is `offset + i * stride[0] + j * stride[1] + ...`. The result
gathers them (op `take`) and the scatter writes them (op `put`); the gradient of overlapping
windows adds up, as PyTorch's as_strided backward does. Unlike PyTorch, the result is a copy:
writing into it does not change the input."""

from __future__ import annotations

import numpy as np

from . import _factories as fac
from . import _layout as L
from . import _strides
from ._dispatch import dispatch
from ._overlap_writes import overlap_view
from ._tensor import Tensor


def _positions(input: Tensor, size, stride, storage_offset) -> np.ndarray:
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    index = np.full(size, offset, np.int64)
    for d, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        index = index + (np.arange(n, dtype=np.int64) * st).reshape(shape)
    needed = (int(index.max()) + 1) if index.size else 0
    if needed > input.numel():
        itemsize = np.dtype(input.dtype.np).itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {itemsize} requiring a storage size "
                           f"of {needed * itemsize} are out of bounds for storage of size "
                           f"{input.numel() * itemsize}")
    return index


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """The elements a strided view of `input`'s (row-major) storage would show, as a new
    tensor of shape `size`."""
    index = _positions(input, size, stride, storage_offset)
    out = dispatch("take", input, fac.tensor(index))
    start = _strides.layout(input)[1] if storage_offset is None else storage_offset
    _strides.set_layout(out, tuple(stride), start)
    # a view in PyTorch: an in-place write on it lands in `input`'s elements
    def forward(new):
        return dispatch("take", new, fac.tensor(index))

    if np.unique(index).size < index.size:   # elements share places
        return overlap_view(out, input, lambda: index, forward)
    return L._view_of(out, input, lambda new: as_strided_scatter(input, new, size, stride,
                                                                 storage_offset), forward)


def as_strided_copy(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    return dispatch("take", input, fac.tensor(_positions(input, size, stride, storage_offset)))


def as_strided_(self: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """`as_strided` rebinding `self` to the result."""
    result = as_strided(self, size, stride, storage_offset)
    self._value, self.grad_fn, self._oi = result._value, result.grad_fn, result._oi
    return self


def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset: int | None = None) -> Tensor:
    """A copy of `input` with `src` written where `as_strided(size, stride, offset)` reads."""
    index = _positions(input, size, stride, storage_offset)
    if tuple(src.shape) != tuple(index.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(index.shape)}")
    return dispatch("put", input, fac.tensor(index), L.reshape(src.to(input.dtype), -1))


METHODS = {"as_strided": as_strided, "as_strided_": as_strided_,
           "as_strided_scatter": as_strided_scatter}

__all__ = ["as_strided", "as_strided_", "as_strided_copy", "as_strided_scatter"]
