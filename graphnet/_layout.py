"""Shape and layout functions (`graphnet.reshape`, `graphnet.cat`, `graphnet.split` ...):
reshaping, joining, splitting, indexing and triangular masks. `_math.py` re-exports them, so
they are top-level functions and (through `_methods.py`) Tensor methods; each ends in a single
`dispatch` of an op, or in indexing."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._dispatch import dispatch
from ._errors import dimension_error
from ._errors import wrap_dim as _wrap_dim
from ._layout_args import _dims, _shape_args, keyword_sizes, shape_ints  # noqa: F401
from . import _dtype as dt
from . import _strides as S
from ._aliases import remember_view
from ._autograd import copied_slices, rename_node
from ._cat import cat
from ._overlap import note_view
from ._view_creation import mark_multi_output
from ._overlap_writes import overlap_view, under_overlap
from ._reshape_check import check_inferred_shape
from ._grad_fn_names import reshaped
from ._layout_args import narrow_start, roll_args
from ._tensor import Tensor

__all__ = [
    "reshape", "flatten", "transpose", "t", "permute", "squeeze", "unsqueeze", "cat", "concat",
    "concatenate", "stack", "split", "chunk", "narrow", "unbind", "gather", "flip", "roll", "tril",
    "triu",
]


def _view_of(out: Tensor, source: Tensor, back, forward=None) -> Tensor:
    """Mark `out` as a view of `source`, as PyTorch's shared storage makes it: an in-place op
    on `out` also gives `source` `back(out)`, the new values laid out as `source`
    (Tensor._assign), and a later in-place change of `source` gives `out` `forward(source)`,
    the view of the new values (graphnet/_aliases.py). `forward` None: the view only
    regroups `source`'s elements (a reshape, squeeze or unsqueeze)."""
    if out is not source:
        out.__dict__["_view"] = lambda new: copied_slices(source._assign(back(new)))
        note_view(out, source)
        forward = forward or _reshaped_as(out)
        remember_view(source, out, forward)
        under_overlap(out, source, forward)
    return out


def _reshaped_as(source: Tensor):
    """`back` for `_view_of` when the view only regroups `source`'s elements (a reshape,
    squeeze or unsqueeze): the new values reshaped to `source`'s shape."""
    shape = tuple(source.shape)
    return lambda new: dispatch("reshape", new, shape=shape)


def reshape(input, *sizes, shape=None):
    """A view of `input` when PyTorch's strides allow one, else a copy (`x.t().reshape(-1)`:
    writing to it leaves `x` as it was, as in PyTorch). `shape=` as PyTorch's keyword."""
    return _regrouped(input, shape_ints("reshape", "shape", keyword_sizes(
        "reshape", sizes, "shape", shape)), copy_if_needed=True)


def view(input, *shape, dtype=None, size=None):
    """`reshape` that must be a view: PyTorch's error when the strides allow none.
    `view(dtype)`: the same bytes read as another dtype (`view_dtype`)."""
    if dtype is not None and not shape and size is None:
        return view_dtype(input, dtype)
    if len(shape) == 1 and isinstance(shape[0], dt.dtype):
        return view_dtype(input, shape[0])
    sizes = keyword_sizes("view", shape, "size", size)
    return _regrouped(input, shape_ints("view", "size", sizes), copy_if_needed=False)


def view_dtype(input, dtype):
    """PyTorch's `Tensor.view(dtype)`: a view sharing `input`'s elements, so writing to
    either changes both; with no gradient (PyTorch's is not differentiable either). A dtype
    of another element size rescales the last dimension, which must be contiguous."""
    from ._shape_more import type_name

    source = input.dtype
    if dtype.itemsize != source.itemsize:
        names = f"{type_name(source)} as {type_name(dtype)} (different element sizes)"
        if input.dim() == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names}")
        stride = S.layout(input)[0][-1]
        if stride != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {names}, but got {stride}")
        ratio = dtype.itemsize // source.itemsize
        if ratio > 1 and input.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} to view {names}, "
                               f"but got {input.shape[-1]}")
    out = dispatch("view_dtype", input, dtype=dtype.np)
    if "_layout" in input.__dict__:     # the last dim is contiguous: the others scale
        strides, offset = input.__dict__["_layout"]
        scale = source.itemsize / dtype.itemsize
        last = list(strides[-1:]) if scale == 1 else [1]   # same itemsize: strides kept
        S.set_layout(out, [int(s * scale) for s in strides[:-1]] + last, int(offset * scale))
    return _view_of(out, input, lambda new: dispatch("view_dtype", new, dtype=source.np),
                    lambda new: dispatch("view_dtype", new, dtype=dtype.np))


def _regrouped(input, shape, copy_if_needed: bool):
    if any(s < 0 for s in shape):   # JAX divided by zero inferring -1 among zeros
        check_inferred_shape(shape, input.numel())
    out = dispatch("reshape", input, shape=shape)   # the same shape too: a new view, as torch
    if "_layout" in input.__dict__:     # a strided view: is the new shape one too?
        strides, offset = input.__dict__["_layout"]
        new = S.view_strides(input.shape, strides, out.shape)
        if copy_if_needed:   # PyTorch's reshape of a view: a view, an alias or a copy
            reshaped(out, input.shape, strides, new)
        if new is None:
            if copy_if_needed:
                return out
            raise RuntimeError("view size is not compatible with input tensor's size and "
                               "stride (at least one dimension spans across two contiguous "
                               "subspaces). Use .reshape(...) instead.")
        S.set_layout(out, new, offset)
    return _view_of(out, input, _reshaped_as(input))


def contiguous(input, memory_format=None):
    """`input` itself when its strides are row-major, else a copy (writes to it stay there)."""
    found = input.__dict__.get("_layout")
    if found is None or S.is_contiguous(input.shape, found[0]):
        return input
    return dispatch("clone", input)


def expand(input, shape):
    """The expanded view: it follows `input`'s later changes. A write to it whose elements
    share a place raises, as in PyTorch; a write to a part of it where none do (`e[0]`)
    reaches `input` (graphnet/_overlap_writes.py)."""
    out = dispatch("expand", input, shape=tuple(shape))
    strides, offset = S.layout(input)
    S.set_layout(out, S.expanded(input.shape, strides, out.shape), offset)
    forward = lambda new: dispatch("expand", new, shape=tuple(shape))  # noqa: E731
    if not S.overlapping(out.shape, S.layout(out)[0]):
        return _view_of(out, input, _reshaped_as(input), forward)
    sizes, numbers = tuple(out.shape), tuple(input.shape)
    return overlap_view(out, input, lambda: np.broadcast_to(
        np.arange(int(np.prod(numbers))).reshape(numbers), sizes), forward)


def flatten(input, start_dim=0, end_dim=-1):
    shape = tuple(input.shape)
    start, end = _wrap_dim(start_dim, len(shape)), _wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if not shape:
        return reshape(input, 1)
    if start == end:    # nothing merged: PyTorch returns the input itself
        return input
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


def transpose(input, dim0, dim1):
    if input.dim() == 0:   # PyTorch: dims 0 and -1 of a 0-d tensor, a view of itself
        _wrap_dim(dim0, 0), _wrap_dim(dim1, 0)
        return _view_of(dispatch("squeeze", input), input, _reshaped_as(input))
    out = dispatch("transpose", input, dim0=dim0, dim1=dim1)
    strides, offset = S.layout(input)
    swapped = list(strides)
    d0, d1 = _wrap_dim(dim0, input.dim()), _wrap_dim(dim1, input.dim())
    swapped[d0], swapped[d1] = swapped[d1], swapped[d0]
    S.set_layout(out, swapped, offset)
    swap = lambda new: dispatch("transpose", new, dim0=dim0, dim1=dim1)  # noqa: E731
    return _view_of(out, input, swap, swap)


def t(input):
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    # a new view even of a 0-d or 1-d tensor, as PyTorch's (it was the input itself)
    out = transpose(input, 0, 1) if input.dim() == 2 else permute(input, *range(input.dim()))
    rename_node(out, "TBackward0", "transpose" if input.dim() == 2 else "permute")
    return out


def permute(input, *dims):
    dims = _shape_args(dims)
    out = dispatch("permute", input, dims=dims)
    strides, offset = S.layout(input)
    S.set_layout(out, [strides[d % max(len(dims), 1)] for d in dims], offset)
    inverse = tuple(sorted(range(len(dims)), key=lambda i: dims[i] % max(len(dims), 1)))
    return _view_of(out, input, lambda new: dispatch("permute", new, dims=inverse),
                    lambda new: dispatch("permute", new, dims=dims))


def squeeze(input, dim=None):
    dim = _dims(dim)
    if input.dim() == 0 and dim is not None:   # dims 0 and -1 of a 0-d tensor are size 1
        _scalar_dims(dim)
        dim = None
    out = dispatch("squeeze", input, dim=dim)
    if dim is not None:   # PyTorch's squeeze(dim) and squeeze(dims) are nodes of their own
        rename_node(out, "SqueezeBackward2" if isinstance(dim, tuple) else "SqueezeBackward1",
                    "squeeze")
    return _view_of(_regrouped_layout(out, input), input, _reshaped_as(input))


def unsqueeze(input, dim):
    out = dispatch("unsqueeze", input, dim=dim)
    found = input.__dict__.get("_layout")
    if found is None:
        return _view_of(out, input, _reshaped_as(input))
    # PyTorch's rule for the new dim's stride: size * stride of the dim it goes before, 1 at
    # the end (the regrouping rule gave the last stride again: (12, 4, 4) for (12, 4, 1))
    d = _wrap_dim(dim, input.dim() + 1)
    strides = list(found[0])
    strides.insert(d, input.shape[d] * strides[d] if d < input.dim() else 1)
    S.set_layout(out, tuple(strides), found[1])
    return _view_of(out, input, _reshaped_as(input))


def _scalar_dims(dims) -> None:
    """PyTorch's checks of the dims given for a 0-d tensor: each 0 or -1, named once."""
    dims = dims if isinstance(dims, tuple) else (dims,)
    if len({_wrap_dim(d, 0) for d in dims}) < len(dims):
        raise RuntimeError("dim 0 appears multiple times in the list of dims")


def _regrouped_layout(out, input):
    """`out`, a squeeze or unsqueeze of `input`, with its strides (always a view)."""
    found = input.__dict__.get("_layout")
    if found is not None:
        S.set_layout(out, S.view_strides(input.shape, found[0], out.shape), found[1])
    return out


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0):
    return dispatch("stack", *tensors, dim=dim)


def split(input, split_size_or_sections=None, dim=0, *, split_size=None):
    """PyTorch's split, its checks included: sections must sum to the dimension's size (a
    shorter list silently dropped the rest), a split size must be positive. `split_size=`:
    the keyword of the method `Tensor.split`."""
    if (split_size_or_sections is None) == (split_size is None):
        raise TypeError("split() missing required argument 'split_size_or_sections'")
    split_size_or_sections = split_size if split_size is not None else split_size_or_sections
    _at_least_1d("split", input)
    dim = _wrap_dim(dim, input.dim())
    size = input.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={step}")
        if step == 0:
            if size:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {size}")
            return (input,)
        bounds = list(range(0, size, step)) + [size] if size else [0, 0]   # one empty piece
    else:
        sections = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sections):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sections}")
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {dim}), but got "
                               f"split_sizes={sections}")
        bounds = [0]
        for s in sections:
            bounds.append(bounds[-1] + s)
    pieces = tuple(narrow(input, dim, a, b - a) for a, b in zip(bounds[:-1], bounds[1:]))
    for piece in pieces:   # one node per piece, where PyTorch has one for all (same name)
        rename_node(piece, "SplitBackward0" if isinstance(split_size_or_sections, int)
                    else "SplitWithSizesBackward0", "getitem")
    mark_multi_output(input, pieces, "Split" if isinstance(split_size_or_sections, int)
                      else "SplitWithSizes")
    return pieces


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    _at_least_1d("chunk", input)
    dim = _wrap_dim(dim, input.dim())
    size = input.shape[dim]
    if not size:   # PyTorch gives `chunks` empty pieces
        return tuple(narrow(input, dim, 0, 0) for _ in range(chunks))
    return split(input, -(-size // chunks), dim)


def _at_least_1d(name: str, input) -> None:
    if input.dim() == 0:
        raise RuntimeError(f"{name} expects at least a 1-dimensional tensor")


def narrow(input, dim, start, length):
    """`length` elements of dim `dim` from `start` (negative counts from the end; a 0-d
    integer tensor is read), with PyTorch's range checks."""
    if input.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    rank = input.dim()
    if not -rank <= dim < rank:
        raise dimension_error(dim, rank)
    dim %= rank
    size, start, length = input.shape[dim], narrow_start(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    out = input[(slice(None),) * dim + (slice(start, start + length),)]
    rename_node(out, "SliceBackward0", "getitem")
    return out


def unbind(input, dim=0):
    dim = _wrap_dim(dim, input.dim())
    lead = (slice(None),) * dim
    pieces = tuple(input[lead + (i,)] for i in range(input.shape[dim]))
    for piece in pieces:   # one node per piece, where PyTorch has one for all (same name)
        rename_node(piece, "UnbindBackward0", "getitem")
    mark_multi_output(input, pieces, "Unbind")
    return pieces


def gather(input, dim, index, *, sparse_grad: bool = False):
    _check_gather("gather", input, dim, index)   # sparse_grad: the gradient's layout only
    return dispatch("gather", input, index, dim=dim)


def _check_gather(name: str, input, dim, index, src=None) -> None:
    """PyTorch's shape and dtype rules for gather's (and scatter's) index: as many dimensions
    as the input (a 0-d tensor counts as 1-d), no larger than it outside `dim` (nor than
    `src`, for scatter), int64 (gather also takes int32)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype.name not in (("int64", "int32") if name == "gather" else ("int64",)):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index" if name == "gather"
                           else f"{name}(): Expected dtype int64 for index")
    in_shape, ix_shape = tuple(input.shape) or (1,), tuple(index.shape) or (1,)
    dim = _wrap_dim(dim, len(in_shape))
    if index.numel() == 0:
        return
    if len(ix_shape) != len(in_shape):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           + ("input tensor" if name == "gather" else "self tensor"))
    for d, (n, m) in enumerate(zip(ix_shape, in_shape)):
        if d != dim and n > m:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {dim}")
    if src is not None:
        src_shape = tuple(src.shape) or (1,)
        for d, n in enumerate(ix_shape):
            if d < len(src_shape) and n > src_shape[d]:
                raise RuntimeError(f"Size does not match at dimension {d} expected index "
                                   f"{list(index.shape)} to be no larger than src "
                                   f"{list(src.shape)}")


def flip(input, *dims, **named):
    """`flip(x, dims)`, `flip(x, dims=[0])`, and `x.flip(0, 1)`."""
    if named and (set(named) != {"dims"} or dims):
        raise TypeError(f"flip() got an unexpected keyword argument {sorted(named)[0]!r}")
    dims = (named["dims"],) if named else dims
    dims = _dims(dims[0] if len(dims) == 1 else dims)
    if input.dim() == 0:   # PyTorch: a copy, for dims 0 and -1 (a 0-d tensor's range)
        _scalar_dims(dims)
        return dispatch("clone", input)
    return dispatch("flip", input, dims=dims)


def roll(input, shifts, dims=None):
    """Shift elements along `dims` (wrapping around); with no dims, over the flattened tensor."""
    shifts, dims = roll_args(input, shifts, dims)
    return dispatch("roll", input, shifts=shifts if dims else shifts[0], dims=dims)


def tril(input, diagonal=0):
    return dispatch("tril", input, diagonal=diagonal)


def triu(input, diagonal=0):
    return dispatch("triu", input, diagonal=diagonal)
