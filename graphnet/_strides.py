"""PyTorch's strides for views: which views are contiguous, and so which `reshape` and
`contiguous()` calls share storage and which copy.

graphnet's arrays are JAX arrays, always dense; a view (graphnet/_aliases.py) is a tensor that
shares its source's values both ways. PyTorch decides by strides whether `x.t().reshape(12)`,
`x[:, ::2].contiguous()` or `x.permute(...).contiguous()` is a view or a copy, and users
rely on the copy: before, `y = x.t().contiguous(); y[0, 1] = 99` changed `x`. So each view
records the strides and offset it would have over its source's storage (`_layout` in its
`__dict__`; a tensor without one is contiguous), computed as PyTorch computes them: permute
and transpose reorder them, basic indexing scales and drops them, expand gives 0 to the
dimensions it repeats, diagonal adds two, reshape keeps a view where PyTorch's
`computeStride` finds one. `stride()`, `is_contiguous()` and `storage_offset()` read them.
Results of other ops are fresh, contiguous tensors (PyTorch may give an elementwise result
its input's strides; graphnet reports row-major ones)."""

from __future__ import annotations


def contiguous_strides(shape) -> tuple:
    strides, step = [], 1
    for size in reversed(tuple(shape)):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def layout(t) -> tuple:
    """(strides, storage offset) of tensor `t`."""
    found = t.__dict__.get("_layout")
    return found if found is not None else (contiguous_strides(t.shape), 0)


def set_layout(out, strides, offset: int) -> None:
    strides = tuple(int(s) for s in strides)
    if strides != contiguous_strides(out.shape) or offset:
        out.__dict__["_layout"] = (strides, int(offset))


def is_contiguous(shape, strides) -> bool:
    """PyTorch's rule: dims of size 1 are skipped; the others must be row-major."""
    if any(size == 0 for size in shape):
        return True
    expected = 1
    for size, stride in zip(reversed(tuple(shape)), reversed(tuple(strides))):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


def overlapping(shape, strides) -> bool:
    """Whether two elements share one place (an expanded dimension)."""
    return any(stride == 0 and size > 1 for size, stride in zip(shape, strides))


def view_strides(old_shape, old_strides, new_shape):
    """PyTorch's `computeStride`: the strides of `new_shape` over the same storage, or None
    when no view exists (a dimension would span two separate runs of storage)."""
    old_shape, old_strides, new_shape = tuple(old_shape), tuple(old_strides), tuple(new_shape)
    if not old_shape or any(s == 0 for s in old_shape):
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base = old_strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base = old_strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def indexed(shape, strides, offset: int, index: tuple):
    """(strides, offset) after basic indexing by `index` (ints, slices, None, Ellipsis)."""
    shape, strides = list(shape), list(strides)
    consumed = sum(1 for item in index if item is not None and item is not Ellipsis)
    out, dim = [], 0
    for item in index:
        if item is None:
            out.append(strides[dim] * shape[dim] if dim < len(shape) else 1)
        elif item is Ellipsis:
            for _ in range(len(shape) - consumed):
                out.append(strides[dim])
                dim += 1
        elif isinstance(item, slice):
            start, _, step = item.indices(shape[dim])
            offset += start * strides[dim]
            out.append(strides[dim] * step)
            dim += 1
        else:       # an int (or a 0-d integer tensor)
            position = int(item)
            offset += (position % shape[dim] if shape[dim] else 0) * strides[dim]
            dim += 1
    return tuple(out + strides[dim:]), offset


def expanded(shape, strides, new_shape) -> tuple:
    lead = len(new_shape) - len(shape)
    out = [0] * lead
    for size, stride, new in zip(shape, strides, new_shape[lead:]):
        out.append(stride if size == new else 0)
    return tuple(out)


def diagonal_layout(shape, strides, offset: int, diag: int, d1: int, d2: int):
    rest = [s for k, s in enumerate(strides) if k not in (d1, d2)]
    start = diag * strides[d2] if diag >= 0 else -diag * strides[d1]
    return tuple(rest + [strides[d1] + strides[d2]]), offset + start
