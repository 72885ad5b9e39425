"""Diagonals and scattered writes: diag, diagonal, diag_embed, diagflat, diagonal_scatter,
select_scatter, slice_scatter, Tensor.fill_diagonal_, tril_indices/triu_indices and
block_diag.

`diagonal`, `diag_embed` and `diagonal_scatter` are ops (graphnet/_ops/shape_extra.py);
select_scatter and slice_scatter are one `index_put` (the op `x[i] = v` records), so their
gradients reach both the input and `src`.

>>> import graphnet as torch
>>> torch.diag(torch.tensor([1, 2]))
tensor([[1, 0],
        [0, 2]])
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import _dtype as dt
from . import _factories as fac
from . import _layout as L
from . import _strides
from ._dispatch import dispatch
from ._ops._promote import not_implemented
from ._indexing import _split_index
from ._shape_more import wrap_dim
from ._tensor import Tensor


def _diag_dims(rank: int, dim1: int, dim2: int) -> tuple[int, int]:
    d1, d2 = wrap_dim(dim1, rank), wrap_dim(dim2, rank)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """Diagonal `offset` (above the main one when positive) of the 2-D slices in dims
    `dim1` and `dim2`; it becomes the result's last dimension."""
    d1, d2 = _diag_dims(input.dim(), dim1, dim2)
    out = dispatch("diagonal", input, offset=int(offset), dim1=d1, dim2=d2)
    strides, start = _strides.layout(input)
    _strides.set_layout(out, *_strides.diagonal_layout(input.shape, strides, start, int(offset),
                                                        d1, d2))
    # a view in PyTorch: `x.diagonal().fill_(0)` writes x's diagonal
    return L._view_of(out, input, lambda new: dispatch("diagonal_scatter", input, new,
                                                       offset=int(offset), dim1=d1, dim2=d2),
                      lambda new: dispatch("diagonal", new, offset=int(offset), dim1=d1, dim2=d2))


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    d1, d2 = _diag_dims(input.dim(), dim1, dim2)
    return dispatch("diagonal", input, offset=int(offset), dim1=d1, dim2=d2)


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """`torch.linalg.diagonal`: `diagonal` with the last two dims as the default plane."""
    return diagonal(A, offset, dim1, dim2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims `dim1`, `dim2` of the result) whose diagonal `offset` holds the
    last dimension of `input`; zero elsewhere."""
    d1, d2 = _diag_dims(input.dim() + 1, dim1, dim2)
    return dispatch("diag_embed", input, offset=int(offset), dim1=d1, dim2=d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor: the square matrix with it on diagonal `diagonal`; a 2-D tensor: its
    diagonal `diagonal` as 1-D."""
    if input.dim() == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.dim() == 2:
        return dispatch("diagonal", input, offset=int(diagonal), dim1=0, dim2=1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """`input` flattened, on diagonal `offset` of a square matrix."""
    return diag_embed(L.reshape(input, -1), offset, 0, 1)


def _same_shape(src: Tensor, expected: tuple) -> None:
    if tuple(src.shape) != tuple(expected):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expected)}")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of `input` whose diagonal (as `diagonal(input, offset, dim1, dim2)` reads it)
    is `src`."""
    d1, d2 = _diag_dims(input.dim(), dim1, dim2)
    rows, cols = input.shape[d1], input.shape[d2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    rest = [s for i, s in enumerate(input.shape) if i not in (d1, d2)]
    _same_shape(src, tuple(rest) + (length,))
    return dispatch("diagonal_scatter", input, src, offset=int(offset), dim1=d1, dim2=d2)


def _put(input: Tensor, index: tuple, src: Tensor) -> Tensor:
    spec, tensors = _split_index(index, tuple(input.shape))
    src = src if isinstance(src, Tensor) else fac.tensor(src)
    return dispatch("index_put", input, src.to(input.dtype), *tensors, spec=spec)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of `input` whose slice `index` of dim `dim` is `src`."""
    dim = wrap_dim(dim, input.dim())
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    _same_shape(src, tuple(s for i, s in enumerate(input.shape) if i != dim))
    return _put(input, (slice(None),) * dim + (int(index) % size,), src)


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of `input` whose slice `start:end:step` of dim `dim` is `src`."""
    dim = wrap_dim(dim, input.dim())
    window = slice(start, end, step)
    expected = list(input.shape)
    expected[dim] = len(range(*window.indices(input.shape[dim])))
    _same_shape(src, tuple(expected))
    return _put(input, (slice(None),) * dim + (window,), src)


def _diagonal_mask(shape: tuple, wrap: bool) -> np.ndarray:
    """Where fill_diagonal_ writes, as PyTorch computes it: every (sum of strides)-th element
    from the start, min(height, width) of them, and for a tall 2-D matrix with `wrap` the
    same again every width + 1 rows."""
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    height, width = shape[0], shape[1]
    if len(shape) > 2 and any(s != height for s in shape[1:]):
        raise RuntimeError("all dimensions of input must be of equal length")
    strides = np.cumprod((1,) + shape[::-1])[:-1][::-1]
    stride, size, numel = int(strides.sum()), min(height, width), int(np.prod(shape))
    flat = np.zeros(numel, bool)
    flat[np.arange(size) * stride] = True
    if wrap and len(shape) == 2 and height > width + 1:
        step = width + 1
        extra = (numel + step - 1) // step - size
        flat[width * (width + 1) + np.arange(extra) * stride] = True
    return flat.reshape(shape)


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Write `fill_value` on the main diagonal in place (all dims of equal length when there
    are more than 2; `wrap` restarts the diagonal below a tall matrix's first square)."""
    mask = fac.tensor(_diagonal_mask(tuple(self.shape), wrap))
    if not self.dtype.is_floating_point:   # PyTorch casts the value to the tensor's dtype
        fill_value = bool(fill_value) if self.dtype.name == "bool" else int(fill_value)
    return self._assign(self.masked_fill(mask, fill_value))


def _triangle(which, row: int, col: int, offset: int, dtype) -> Tensor:
    dtype = dt.int64 if dtype is None else dtype
    if dtype not in (dt.int64, dt.int32):
        raise not_implemented(f"{which}_indices", dtype)
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got {row}" if row < 0 else
                           f"col must be non-negative, got {col}")
    indices = (np.tril_indices if which == "tril" else np.triu_indices)(row, offset, col)
    return fac.tensor(np.stack(indices).astype(dtype.np).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """[2, N]: the row and column of every element on or below diagonal `offset` of a
    row x col matrix, in row-major order."""
    return _triangle("tril", row, col, offset, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """[2, N]: the row and column of every element on or above diagonal `offset`."""
    return _triangle("triu", row, col, offset, dtype)


def result_dtype(tensors: Sequence[Tensor]):
    """PyTorch's promotion of tensors' dtypes: the widest of the highest category (bool <
    integer < floating point)."""
    def category(d):
        return 2 if d.is_floating_point else 0 if d.name == "bool" else 1
    top = max(category(t.dtype) for t in tensors)
    chosen = [t.dtype for t in tensors if category(t.dtype) == top]
    return dt.from_np(np.result_type(*[d.np for d in chosen]))


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-d, 1-d as one row, or 2-d) along the diagonal of one block matrix."""
    blocks = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.dim()} dimensions")
        blocks.append(L.reshape(t, 1, -1) if t.dim() < 2 else t)
    if not blocks:
        return fac.zeros(1, 0)
    dtype = result_dtype(blocks)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = [fac.zeros(r, left, dtype=dtype), b.to(dtype),
                 fac.zeros(r, width - left - c, dtype=dtype)]
        rows.append(dispatch("cat", *[p for p in parts if p.shape[1] or p is parts[1]], dim=1))
        left += c
    return L.cat(rows, 0)


__all__ = ["diagonal", "diagonal_copy", "diag_embed", "diag", "diagflat", "diagonal_scatter",
           "select_scatter", "slice_scatter", "tril_indices", "triu_indices", "block_diag"]
