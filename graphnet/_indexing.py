"""`tensor[index]` and `tensor[index] = value`: NumPy-style indices become a hashable spec
(an op attribute) plus the tensor indices (op inputs)."""

from __future__ import annotations

import warnings

import jax
import numpy as np

from . import _dtype, _overlap, _strides
from ._overlap_writes import under_overlap
from ._aliases import WRITING, remember_view
from ._autograd import assign_from, copied_slices
from ._arith_checks import check_fits
from ._dispatch import current_mode, dispatch
from ._errors import ShapeError, TraceError
from ._host_reads import host_values
from ._index_grad_fn import name_index_node
from ._index_spec import runtime_starts, torch_block
from ._index_kinds import (check_broadcast, check_value_dtype, concrete_select, is_select,
                           layout_index, scalar_mask, scalar_mask_value, value_shape_error)
from ._tensor import Tensor


def _as_index_tensor(x):
    if isinstance(x, Tensor):
        return x
    from ._factories import tensor

    if isinstance(x, (list, tuple)) and len(x) == 0:    # x[[]]: no rows, as in PyTorch
        from . import _dtype

        return tensor([], dtype=_dtype.int64)
    return tensor(x)


def _as_tuple(index, warn: bool = True) -> tuple:
    """The index as a tuple of per-dimension items, by PyTorch's rule for a list (NumPy's
    old one): a short list holding a slice, None, Ellipsis, a tensor or another sequence is
    a tuple of indices (`x[[idx]]` is `x[idx]`, `x[[0, slice(None)]]` is `x[0, :]`); a list of
    numbers is one advanced index."""
    if isinstance(index, tuple):
        return index
    if isinstance(index, list) and len(index) < 32 and any(
            item is None or item is Ellipsis or isinstance(item, (slice, Tensor, list, tuple,
                                                                   np.ndarray))
            for item in index):
        if not warn:
            return tuple(index)
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; "
                      "use x[tuple(seq)] instead of x[seq]. PyTorch says it will read it as a "
                      "tensor index, x[tensor(seq)], in a later version.", UserWarning,
                      stacklevel=4)
        return tuple(index)
    return (index,)


def _byte_mask(tensor: Tensor) -> Tensor:
    warnings.warn("indexing with dtype graphnet.uint8 is now deprecated, please use a dtype "
                  "graphnet.bool instead.", UserWarning, stacklevel=4)
    return tensor != 0


def _consumed(item) -> int:
    """How many dimensions of the indexed tensor one index item covers (an Ellipsis: -1)."""
    if item is None or isinstance(item, (bool, np.bool_)):
        return 0
    if item is Ellipsis:
        return -1
    if isinstance(item, Tensor):
        return item.dim() if item.dtype.name in ("bool", "uint8") else 1
    if isinstance(item, (list, np.ndarray)):
        array = np.asarray(item)
        return array.ndim if array.dtype == np.bool_ else 1
    return 1


def _mask_starts(index, shape) -> dict:
    """{position in `index`: first dimension it indexes} for each mask in `index`, when they
    can be placed (a known shape)."""
    counts = [_consumed(item) for item in index]
    starts, dim = {}, 0
    for i, (item, n) in enumerate(zip(index, counts)):
        if n < 0:
            dim = len(shape) - sum(c for c in counts if c > 0) + dim
            continue
        tensor_mask = isinstance(item, Tensor) and item.dtype.name in ("bool", "uint8")
        listed_mask = isinstance(item, (list, np.ndarray)) and np.asarray(item).dtype == np.bool_
        if (tensor_mask or listed_mask) and n:
            starts[i] = dim
        dim += n
    return starts


def _check_mask(mask, shape, start: int) -> None:
    """PyTorch's refusal of a mask whose shape is not the indexed dimensions' (before, the
    wrong elements were picked or written)."""
    for j, size in enumerate(np.shape(mask) if not isinstance(mask, Tensor) else mask.shape):
        if start + j < len(shape) and size != shape[start + j]:
            raise IndexError(f"The shape of the mask {list(np.shape(mask))} at index {j} does not "
                             f"match the shape of the indexed tensor {list(shape)} at index "
                             f"{start + j}")


def _split_index(index, shape=None):
    index = _as_tuple(index)
    eager = current_mode() is None
    masks = _mask_starts(index, shape) if shape is not None else {}
    shape_of_all = shape
    dim = 0
    spec, tensors = [], []
    for position, item in enumerate(index):
        if position in masks:
            _check_mask(item, shape_of_all, masks[position])
        if item is None:
            spec.append(("n",))
        elif item is Ellipsis:
            spec.append(("e",))
            shape = None  # dimensions after an ellipsis are not tracked
        elif isinstance(item, slice):
            if item.step is not None and int(item.step) <= 0:
                raise ValueError("step must be greater than zero")
            dim += 1
            spec.append(("s", _int_or_none(item.start), _int_or_none(item.stop),
                         _int_or_none(item.step)))
        elif isinstance(item, (bool, np.bool_)):
            spec.append(("t",))
            tensors.append(_as_index_tensor(np.array(item)))
        elif isinstance(item, (int, np.integer)):
            # NOTE: a runtime index is clamped by XLA, so check bounds here as PyTorch does
            # (iteration relies on the IndexError).
            if shape is not None and dim < len(shape) and not -shape[dim] <= item < shape[dim]:
                raise IndexError(f"index {int(item)} is out of bounds for dimension {dim} "
                                 f"with size {shape[dim]}")
            if eager:  # a runtime argument: iterating x[0], x[1] ... compiles one kernel
                spec.append(("t",))
                tensors.append(int(item))
            else:  # a traced graph keeps it readable and static: getitem(%x, spec=(('i', 0),))
                spec.append(("i", int(item)))
            dim += 1
        elif is_select(item):
            if concrete_select(item):
                spec.append(("i", int(item)))
            else:
                # NOTE: a traced 0-d index (an argument, or `x.argmax()` inside the compiled
                # function) is still PyTorch's select: it goes in as a 0-d tensor, which the
                # getitem/index_put checks bound and the kernel wraps when negative;
                # _torch_block counts it as an int, and getitem makes it a view.
                spec.append(("t",))
                tensors.append(item)
            dim += 1
        else:
            tensor = _as_index_tensor(item)
            if tensor.dtype.is_floating_point or tensor.dtype.name in ("int8", "int16"):
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if tensor.dtype.name == "uint8":   # PyTorch still reads a byte tensor as a mask
                tensor = _byte_mask(tensor)
            if tensor.dtype.name != "bool" and shape is not None and dim < len(shape) and \
                    shape[dim] == 0 and tensor.numel():
                # NOTE: decided from shapes, so a compiled call raises it too (JAX refused
                # the gather while tracing, before the getitem check could run)
                raise IndexError("index is out of bounds for dimension with size 0")
            if tensor.dtype.name == "bool":
                shape = None  # a mask covers several dims: stop tracking them
                # A mask's result size depends on the data: fine eagerly, and for a captured
                # mask (its values are guarded: _host_reads.py); impossible for a traced one.
                values = host_values(
                    tensor, "boolean-mask indexing",
                    "boolean-mask indexing has a data-dependent shape and cannot be traced; "
                    "use graphnet.where(mask, x, other) instead")
                for part in np.nonzero(values):
                    spec.append(("t",))
                    tensors.append(_as_index_tensor(part))   # int64, as NumPy made it
                continue
            spec.append(("t",))
            tensors.append(tensor)
            dim += 1
    check_broadcast(tensors)
    return tuple(spec), tensors


def _int_or_none(x):
    return None if x is None else int(x)


def _python_bools(index):
    """`x[True]`, `x[0, False]`: PyTorch unsqueezes `x` where each Python bool stands and
    indexes the new dimension with [0] (True) or nothing (False), an advanced index; a 0-d
    bool or uint8 tensor counts as the bool it holds (`x[tensor(True)]`). Returns
    (the unsqueezing index, the index for its result), or None without a Python bool."""
    index = _as_tuple(index, warn=False)
    if not any(isinstance(item, (bool, np.bool_)) or scalar_mask(item) for item in index):
        return None
    from ._factories import tensor

    first, second = [], []
    for item in index:
        if scalar_mask(item):
            item = scalar_mask_value(item)
        if isinstance(item, (bool, np.bool_)):
            first.append(None)
            second.append(tensor([0] if item else [], dtype=_dtype.int64))
        elif item is None or item is Ellipsis:
            first.append(item)
            second.append(slice(None) if item is None else item)
        else:
            width = item.dim() if isinstance(item, Tensor) and item.dtype.name in (
                "bool", "uint8") else 1
            first.extend([slice(None)] * width)
            second.append(item)
    return tuple(first), tuple(second)


def getitem(self: Tensor, index):
    bools = _python_bools(index)
    if bools is not None:
        return getitem(getitem(self, bools[0]), bools[1])
    spec, tensors = _split_index(index, tuple(self.shape))
    if current_mode() is None:
        spec, tensors = runtime_starts(spec, tensors, tuple(self.shape))
    out = dispatch("getitem", self, *tensors, spec=spec)
    block = torch_block(spec, tensors, self.dim())
    if block is not None:
        position, count = block
        out = out.movedim(tuple(range(count)), tuple(range(position, position + count)))
    name_index_node(out, self, index)   # SelectBackward0, SliceBackward0 ... as PyTorch's
    if all(not isinstance(t, Tensor) or is_select(t) for t in tensors):
        # basic indexing (ints, slices, None, ...) is a view in PyTorch: an in-place op on
        # the result writes through to `self` (Tensor._assign); advanced indexing copies
        out.__dict__["_view"] = lambda new: setitem(self, index, new)
        _overlap.note_view(out, self)
        forward = lambda new: dispatch("getitem", new, *tensors, spec=spec)  # noqa: E731
        remember_view(self, out, forward)
        under_overlap(out, self, forward)
        strides, offset = _strides.layout(self)
        _strides.set_layout(out, *_strides.indexed(self.shape, strides, offset,
                                                   layout_index(_as_tuple(index, warn=False))))
    return out


def _mask_of(self: Tensor, index):
    """The bool mask of `x[mask] = value` (a mask over x's leading dims), else None."""
    mask = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool" or mask.dim() == 0:
        return None
    shape, lead = tuple(self.shape), tuple(mask.shape)
    if lead != shape[:len(lead)]:
        bad = next(d for d, (m, s) in enumerate(zip(lead, shape)) if m != s) \
            if len(lead) <= len(shape) else len(shape)
        raise IndexError(f"The shape of the mask {list(lead)} at index {bad} does not match the "
                         f"shape of the indexed tensor {list(shape)} at index {bad}")
    return mask


def _masked_assign(self: Tensor, mask: Tensor, value):
    """`x[mask] = value` as `where(mask, value, x)` when `value` broadcasts over the selected
    rows (a number, or a tensor shaped like one row): no value-dependent shape, so it compiles.
    Returns None when `value` has one entry per selected row (its size depends on the mask)."""
    rest = tuple(self.shape)[mask.dim():]
    if isinstance(value, Tensor):
        try:
            fits = np.broadcast_shapes(tuple(value.shape), rest) == rest
        except ValueError:
            fits = False
        if not fits:
            return None
        value = value.to(self.dtype)
    elif isinstance(value, (bool, int, float)) and not (self.dtype.is_floating_point
                                                        or self.dtype.is_complex):
        # `labels[labels > 5] = 2.9` on an integer (or bool) tensor: the number in its dtype,
        # as PyTorch writes it (2, True); a where would have made the result float
        from ._arith_checks import check_fits
        from ._factories import tensor

        check_fits(value, self.dtype.np)    # 300 into uint8 raises, as PyTorch (it wrapped)
        value = tensor(value).to(self.dtype)
    from ._math import where

    mask = mask.reshape(tuple(mask.shape) + (1,) * len(rest))
    return where(mask, value, self)


def setitem(self: Tensor, index, value) -> None:
    check_value_dtype(self, _as_tuple(index, warn=False), value)
    bools = _python_bools(index)
    if bools is not None:   # written through the unsqueezed view
        return setitem(getitem(self, bools[0]), bools[1], value)
    index = _as_tuple(index)
    if "_over" in self.__dict__ and not WRITING and \
            not any(isinstance(item, (Tensor, list)) for item in index):
        # a view whose elements share places (graphnet/_overlap_writes.py): written through
        # the indexed view, so that only the places it shows change
        from ._factories import as_tensor

        part = getitem(self, index)
        part.copy_(value if isinstance(value, Tensor) else as_tensor(value, dtype=part.dtype))
        return None
    if isinstance(value, Tensor) and value.dim() and value.shape[0] == 1:
        # PyTorch drops a value's leading size-1 dimensions first: x[0] = row[None] works
        lead = next((k for k, n in enumerate(value.shape) if n != 1), value.dim())
        value = value.reshape(tuple(value.shape)[lead:])
    if any(isinstance(item, Tensor) and item.dtype.name == "uint8" for item in index) and (
            not isinstance(value, Tensor) or value.dim() == 0):
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           "unsigned char")
    if isinstance(value, Tensor) and id(value) not in WRITING and \
            _overlap.owner(value) is _overlap.owner(self):
        # x[1:] = x[:-1]: PyTorch refuses a value that partly overlaps the place written (a
        # view writing itself back through its source, WRITING, is the place itself)
        # a 0-d integer tensor indexes as a number does (`cm[a, b] += 1` in a loop over
        # tensors): basic indexing, so the value read back is this very place
        basic = not any(isinstance(item, list) or (isinstance(item, Tensor) and
                                                   not is_select(item)) for item in index)
        target = getitem(self, index) if basic else self
        _overlap.check_inputs(target, (value,))
    mask = _mask_of(self, index)
    if mask is not None:
        result = _masked_assign(self, mask, value)
        if result is not None:
            copied_slices(assign_from(self, result, (value,)), "IndexPutBackward0")
            return
        if not isinstance(mask._value, jax.Array):
            raise TraceError(
                f"x[mask] = value with a value of shape {list(value.shape)} (one entry per "
                f"selected row) has a data-dependent shape and cannot be traced; assign a "
                f"number or a tensor of shape {list(self.shape[mask.dim():])}, or use "
                f"graphnet.where(mask, new_values, x)")
    spec, tensors = _split_index(index, tuple(self.shape))
    if current_mode() is None:
        spec, tensors = runtime_starts(spec, tensors, tuple(self.shape))
    check_fits(value, self.dtype.np, fill=True)
    if isinstance(value, Tensor) and value.dtype != self.dtype:
        value = value.to(self.dtype)
    block = torch_block(spec, tensors, self.dim())
    try:
        if block is not None and isinstance(value, Tensor) and value.dim() > 0:
            # the value comes in PyTorch's layout; index_put reads NumPy's
            position, count = block
            value = value.expand(getitem(self, index).shape)
            value = value.movedim(tuple(range(position, position + count)), tuple(range(count)))
        written = dispatch("index_put", self, value, *tensors, spec=spec)
    except ShapeError:
        if not isinstance(value, Tensor):
            raise
        advanced = any(isinstance(item, list) or (isinstance(item, Tensor) and
                                                  not is_select(item)) for item in index)
        raise value_shape_error(tuple(getitem(self, index).shape), value, advanced) from None
    assign_from(self, written, (value,))
    copied_slices(self, _write_node(index, tuple(self.shape), value))


def _write_node(index: tuple, shape: tuple, value) -> str:
    """PyTorch's node for `x[index] = value`: CopySlices when a basic item took a view
    first (an int, None, a slice short of its whole dim), else IndexPutBackward0 for an
    advanced index, else a fill or a copy of the whole tensor."""
    def width(item):
        if isinstance(item, Tensor) and item.dtype.name in ("bool", "uint8"):
            return item.dim()
        return 0 if item is None or item is Ellipsis else 1

    dim, advanced = 0, False
    for item in index:
        if item is Ellipsis:
            dim += len(shape) - sum(width(i) for i in index)
        elif item is None or isinstance(item, (int, np.integer)) or (
                isinstance(item, Tensor) and is_select(item)):
            return "CopySlices"
        elif isinstance(item, slice):
            if item.indices(shape[dim]) != (0, shape[dim], 1):
                return "CopySlices"
            dim += 1
        else:
            advanced, dim = True, dim + width(item)
    if advanced:
        return "IndexPutBackward0"
    return "CopyBackwards" if isinstance(value, Tensor) and value.dim() else "FillBackward3"
