"""Strided views: as_strided, as_strided_, as_strided_copy, as_strided_scatter.

A graphnet tensor holds its values row-major; a view's storage is the values of the tensor
its chain of views starts from (`_storage`), in the order its layout keeps them
(`_physical`: a channels-last tensor's storage is NHWC). So the elements `as_strided(size, stride,
offset)` would view are known positions of that flattened tensor: element [i, j, ...] is
`offset + i * stride[0] + j * stride[1] + ...`. The result gathers them (op `take`) and the
scatter writes them (op `put`); the gradient of overlapping windows adds up, as PyTorch's
as_strided backward does. The result is a view: an in-place write on it lands in the
storage's elements (`_view_of`)."""

from __future__ import annotations

import numpy as np

from . import _factories as fac
from . import _layout as L
from . import _strides
from ._dispatch import dispatch
from ._overlap_writes import overlap_view
from ._tensor import Tensor


def _grid(size: tuple, stride, offset: int) -> np.ndarray:
    """The storage position of each element of a strided layout."""
    index = np.full(size, offset, np.int64)
    for d, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        index = index + (np.arange(n, dtype=np.int64) * int(st)).reshape(shape)
    return index


def _positions(input: Tensor, size, stride, storage_offset) -> np.ndarray:
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    index = _grid(size, stride, offset)
    needed = (int(index.max()) + 1) if index.size else 0
    if needed > input.numel():
        itemsize = np.dtype(input.dtype.np).itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {itemsize} requiring a storage size "
                           f"of {needed * itemsize} are out of bounds for storage of size "
                           f"{input.numel() * itemsize}")
    return index


def _physical(t: Tensor):
    """For a tensor laid out densely in another order than row-major (channels-last, a copy
    of a permuted tensor), the row-major position of each storage place; None when its
    values are already its storage in order, or its layout is not a dense one (then the
    row-major reading stays). `take` and `put` index row-major values, so a strided read of
    such a tensor's storage goes through this map: before, `as_strided` of a channels-last
    tensor read its elements in NCHW order."""
    found = t.__dict__.get("_layout")
    if found is None or found[1] != 0:
        return None
    shape, strides = tuple(t.shape), found[0]
    order = sorted(range(len(shape)), key=lambda d: -strides[d])
    dims = [d for d in order if shape[d] != 1]
    if [strides[d] for d in dims] != list(_strides.contiguous_strides([shape[d] for d in dims])):
        return None
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape).transpose(order).ravel()


def _storage(input: Tensor, storage_offset):
    """(the tensor whose values are `input`'s storage, the storage offset to use).

    A view (`x.t()`, `x[:, 1:]`, `x[::2]`) shows part of the tensor it came from, and PyTorch's
    `as_strided` indexes that storage, from the view's own storage offset unless one is
    given: `x.t().as_strided((2, 2), (5, 1))` shows x's first two rows' first two elements.
    Before, graphnet indexed the view's own values laid out row-major, and read other
    elements. The chain of views is followed to its first tensor; one laid out in a way that
    is not dense (`_physical`) keeps the old reading of `input`'s own values."""
    root = input
    while not (root.requires_grad and root.grad_fn is None):
        # NOTE: a leaf that requires grad ends the chain: `arange(12.).reshape(3, 4)
        # .requires_grad_()` is a view of a storage that needs no gradient, and reading that
        # storage gave the leaf none (its `as_strided` terms were dropped from `.grad`)
        ref = root.__dict__.get("_view_of")
        source = ref() if ref is not None else None
        if source is None:
            break
        root = source
    if root is input or ("_layout" in root.__dict__ and _physical(root) is None):
        return input, storage_offset
    return root, (_strides.layout(input)[1] if storage_offset is None else storage_offset)


def _places(input: Tensor, size, stride, storage_offset,
            positions: np.ndarray | None = None) -> np.ndarray:
    """The row-major positions in `input` of the storage places a strided view reads
    (`positions`: those storage places, when already computed)."""
    index = _positions(input, size, stride, storage_offset) if positions is None else positions
    physical = _physical(input)
    return index if physical is None else physical[index]


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """The elements a strided view of `input`'s storage would show, as a new tensor of shape
    `size` (`_storage`: a view's storage is its source's)."""
    start = _strides.layout(input)[1] if storage_offset is None else storage_offset
    view, (input, storage_offset) = input, _storage(input, storage_offset)
    places = _positions(input, size, stride, storage_offset)
    index = _places(input, size, stride, storage_offset, places)
    out = dispatch("take", input, fac.tensor(index))
    if view is not input and out.requires_grad:
        # PyTorch's backward reaches the view's own elements only: the places it reads
        # outside them (other rows of its source) get no gradient
        strides, offset = _strides.layout(view)
        covered = np.isin(places, _grid(tuple(view.shape), strides, offset))
        if not covered.all():
            out = dispatch("where", fac.tensor(covered), out, out.detach())
    _strides.set_layout(out, tuple(stride), start)
    # a view in PyTorch: an in-place write on it lands in `input`'s elements
    def forward(new):
        return dispatch("take", new, fac.tensor(index))

    if np.unique(index).size < index.size:   # elements share places
        return overlap_view(out, input, lambda: index, forward)
    return L._view_of(out, input, lambda new: as_strided_scatter(input, new, size, stride,
                                                                 storage_offset), forward)


def as_strided_copy(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    input, storage_offset = _storage(input, storage_offset)
    return dispatch("take", input, fac.tensor(_places(input, size, stride, storage_offset)))


def as_strided_(self: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """`as_strided` rebinding `self` to the result."""
    result = as_strided(self, size, stride, storage_offset)
    self._value, self.grad_fn, self._oi = result._value, result.grad_fn, result._oi
    return self


def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset: int | None = None) -> Tensor:
    """A copy of `input` with `src` written where `as_strided(size, stride, offset)` reads."""
    index = _places(input, size, stride, storage_offset)
    if tuple(src.shape) != tuple(index.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(index.shape)}")
    return dispatch("put", input, fac.tensor(index), L.reshape(src.to(input.dtype), -1))


METHODS = {"as_strided": as_strided, "as_strided_": as_strided_,
           "as_strided_scatter": as_strided_scatter}

__all__ = ["as_strided", "as_strided_", "as_strided_copy", "as_strided_scatter"]
