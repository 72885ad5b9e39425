"""Reordering, joining and splitting as PyTorch spells them: movedim, swapaxes, atleast_*d,
hstack/vstack/dstack/column_stack, tensor_split and hsplit/vsplit/dsplit, split_with_sizes,
unflatten, select, ravel, broadcast_to/broadcast_tensors/broadcast_shapes, fliplr/flipud,
rot90, tile and meshgrid.

Each is a composition of existing layout ops (permute, transpose, reshape, expand, cat, flip,
getitem), so it runs the same eagerly and in a compiled program and needs no kernel; this
file adds PyTorch's argument handling and its errors for bad dims and shapes.

>>> import graphnet as torch
>>> torch.hstack([torch.ones(2), torch.zeros(1)])
tensor([1., 1., 0.])
"""

from __future__ import annotations

import warnings
from typing import Sequence

from . import _layout as L
from ._dispatch import dispatch
from ._errors import int_argument, no_dimensions_error, wrap_dim
from ._tensor import Size, Tensor


_SCALAR_TYPES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                 "float64": "Double", "int8": "Char", "int16": "Short", "int32": "Int",
                 "int64": "Long", "uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32",
                 "uint64": "UInt64", "bool": "Bool"}


def type_name(dtype) -> str:
    """PyTorch's name for a dtype in its error messages: Long, Float, Bool ..."""
    return _SCALAR_TYPES.get(dtype.name, dtype.name.capitalize())


def _ints(dims) -> list[int]:
    return [int(d) for d in dims] if isinstance(dims, (list, tuple)) else [int(dims)]


def movedim(input: Tensor, source, destination) -> Tensor:
    """`input` with dims `source` moved to positions `destination` (ints or sequences); the
    other dims keep their order. `moveaxis` is the same function."""
    src, dst = _ints(source), _ints(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    rank = input.dim()
    src = [wrap_dim(d, rank) for d in src]
    dst = [wrap_dim(d, rank) for d in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({_ints(dims)})")
    if rank == 0:
        return input
    order = [None] * rank
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(rank) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    if order == list(range(rank)):
        return input
    return L.permute(input, *order)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """`transpose(input, axis0, axis1)` under NumPy's name (`swapdims` too)."""
    rank = input.dim()
    return L.transpose(input, wrap_dim(axis0, rank), wrap_dim(axis1, rank))


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """`transpose(input, dim0, dim1)` (PyTorch's keywords are dim0 and dim1 here)."""
    return swapaxes(input, dim0, dim1)


def _each(tensors, fn):
    """atleast_*d's calling convention: one tensor in, one out; several (or a sequence) in,
    a tuple out."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1:
        tensors = tuple(tensors[0])
    return tuple(fn(t) for t in tensors)


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d one becomes shape (1,))."""
    return _each(tensors, lambda t: L.reshape(t, 1) if t.dim() == 0 else t)


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions: () -> (1, 1), (n,) -> (1, n)."""
    return _each(tensors, lambda t: L.reshape(t, (1,) * (2 - t.dim()) + tuple(t.shape))
                 if t.dim() < 2 else t)


def _3d(t: Tensor) -> Tensor:
    shape = tuple(t.shape)
    if len(shape) == 0:
        return L.reshape(t, 1, 1, 1)
    if len(shape) == 1:
        return L.reshape(t, 1, shape[0], 1)
    if len(shape) == 2:
        return L.reshape(t, *shape, 1)
    return t


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions: () -> (1, 1, 1), (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1)."""
    return _each(tensors, _3d)


def _tensors(name: str, tensors) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-D tensors), after `atleast_1d`."""
    tensors = [atleast_1d(t) for t in _tensors("hstack", tensors)]
    return L.cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate rows: along dim 0 after `atleast_2d` (`row_stack` too)."""
    return L.cat([atleast_2d(t) for t in _tensors("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along dim 2 after `atleast_3d`."""
    return L.cat([atleast_3d(t) for t in _tensors("dstack", tensors)], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate columns: 0-d and 1-d tensors become (n, 1) columns, then dim 1."""
    tensors = [L.reshape(t, t.numel(), 1) if t.dim() <= 1 else t
               for t in _tensors("column_stack", tensors)]
    return L.cat(tensors, 1)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Dim `dim` expanded into `sizes` (one of them may be -1)."""
    dim = wrap_dim(dim, input.dim())
    if input.dim() == 0:   # PyTorch's words: it wraps an IndexError as a RuntimeError
        raise RuntimeError(f"unflatten got an unexpected error:\n"
                           f"{no_dimensions_error(dim)}")
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[dim]
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    if sizes.count(-1) > 1 or (-1 not in sizes and known != size) or \
            (-1 in sizes and (known == 0 or size % known)):
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size "
                           f"of dim {dim} ({size}) in the input tensor")
    sizes = [size // known if s == -1 else s for s in sizes]
    shape = tuple(input.shape)
    return L.reshape(input, shape[:dim] + tuple(sizes) + shape[dim + 1:])


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice `index` of dim `dim` (that dim removed): `x.select(1, 2)` is `x[:, 2]`."""
    if input.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.dim())
    index = int_argument(index, "select", "index", 2)
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    return input[(slice(None),) * dim + (index % size,)]


def ravel(input: Tensor) -> Tensor:
    """`input` flattened to 1-D."""
    return L.reshape(input, -1)     # a new view even of a 1-d tensor, as in PyTorch


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of `shapes` broadcast to (ints count as 1-D shapes)."""
    rank = 0
    shapes = [(s,) if isinstance(s, int) else tuple(int(d) for d in s) for s in shapes]
    for s in shapes:
        rank = max(rank, len(s))
    out = [1] * rank
    for k, s in enumerate(shapes):
        for i, d in enumerate(s, start=rank - len(s)):
            if d < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {d}: "
                                   f"{list(s)}")
            if out[i] == 1:
                out[i] = d
            elif d not in (1, out[i]):
                raise RuntimeError(f"Attempting to broadcast a dimension of length {d} at "
                                   f"{i - rank}! Mismatching argument at index {k} had {s}; "
                                   f"but expected shape should be broadcastable to {out}")
    return Size(out)


def broadcast_to(input: Tensor, size) -> Tensor:
    """`input` expanded to `size` (-1 keeps a dimension): `x.expand(*size)`."""
    size = tuple(int(s) for s in size)
    shape = tuple(input.shape)
    lead = len(size) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand({input.dtype.name}{{{list(shape)}}}, size={list(size)}): "
                           f"the number of sizes provided ({len(size)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(shape)})")
    full = []
    for i, s in enumerate(size):
        own = shape[i - lead] if i >= lead else None
        if s == -1:
            if own is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = own
        if own is not None and own != s and own != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({own}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(size)}.  Tensor sizes: {list(shape)}")
        full.append(s)
    if tuple(full) == shape:
        return input
    return L.expand(input, tuple(full))


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


def fliplr(input: Tensor) -> Tensor:
    """`input` with its columns (dim 1) reversed; it needs 2 or more dims."""
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return L.flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """`input` with its rows (dim 0) reversed; it needs 1 or more dims."""
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return L.flip(input, (0,))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """`input` rotated by 90 degrees `k` times in the plane `dims`, from the first towards
    the second axis."""
    dims = [int(d) for d in dims]
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = (wrap_dim(d, input.dim()) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return L.transpose(L.flip(input, (d1,)), d0, d1)
    if k == 2:
        return L.flip(input, (d0, d1))
    if k == 3:
        return L.transpose(L.flip(input, (d0,)), d0, d1)
    return input.clone()


def tile(input: Tensor, dims) -> Tensor:
    """`input` repeated `dims[i]` times along each dim; missing leading dims count as 1."""
    dims = L._shape_args(dims if isinstance(dims, (list, tuple)) else (dims,))
    dims = (1,) * (input.dim() - len(dims)) + dims
    if any(d < 0 for d in dims):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(dims)}")
    return dispatch("repeat", input, repeats=dims)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D (or 0-d) tensors: with `indexing="ij"` (the default) output
    i varies along dim i; `"xy"` swaps the first two dims, as NumPy's meshgrid."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f'received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have "
                               "the same dtype.")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t.numel() for t in order)
    grids = []
    for i, t in enumerate(order):
        view = L.reshape(t, tuple(-1 if j == i else 1 for j in range(len(order))))
        grids.append(broadcast_to(view, shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# NOTE: at the bottom: the splits use wrap_dim from this module
from ._splits import dsplit, hsplit, split_with_sizes, tensor_split, vsplit  # noqa: E402

__all__ = ["movedim", "moveaxis", "swapaxes", "swapdims", "atleast_1d", "atleast_2d",
           "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "unflatten",
           "select", "ravel", "broadcast_shapes", "broadcast_to", "broadcast_tensors", "fliplr",
           "flipud", "rot90", "tile", "meshgrid"]
