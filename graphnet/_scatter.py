"""`graphnet.index_select`, `index_add`, `index_fill`, `index_copy`, `scatter`, `scatter_add`,
`scatter_reduce`, `take_along_dim` and their Tensor methods (the `_` forms compute out of
place and assign, so they trace like `add_`). Kernels and index checks: graphnet/_ops/scatter.py.

>>> import graphnet as torch
>>> torch.zeros(2, 3).scatter_add_(1, torch.tensor([[0, 0], [2, 1]]), torch.ones(2, 2))
tensor([[2., 0., 0.],
        [0., 1., 1.]])
"""

from __future__ import annotations

from ._overlap import inplace as _inplace
from ._dispatch import dispatch
from ._errors import wrap_dim
from ._tensor import Tensor

__all__ = ["index_add", "index_copy", "index_fill", "index_select", "scatter", "scatter_add",
           "scatter_reduce", "take_along_dim"]


def _dim(input: Tensor, dim: int) -> int:
    """`dim` as a non-negative axis of `input` (a 0-d tensor has dims 0 and -1), or
    PyTorch's 'Dimension out of range' IndexError."""
    return wrap_dim(dim, input.dim())


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices `index` (1-D) of `input` along `dim`, in that order."""
    return dispatch("index_select", input, index, dim=_dim(input, dim))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """`input` with `alpha * source[..., i, ...]` added to slice `index[i]`; repeated indices
    accumulate."""
    return dispatch("index_add", input, source, index, dim=_dim(input, dim), alpha=alpha)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """`input` with the slices `index` along `dim` set to `value` (a number or 0-d tensor)."""
    return dispatch("index_fill", input, value, index, dim=_dim(input, dim))


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """`input` with slice `index[i]` along `dim` replaced by `source`'s slice i."""
    return dispatch("index_copy", input, source, index, dim=_dim(input, dim))


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """`input` with `src[i][j]` (or the number `value`) written to
    `[i][index[i][j]]` (dim 1). `reduce="add"|"multiply"` is `scatter_reduce`'s sum/prod."""
    if (src is None) == (value is None):
        raise TypeError("scatter() takes either src (a tensor) or value (a number), not both")
    src = value if src is None else src
    if reduce is not None:
        modes = {"add": "sum", "multiply": "prod"}
        if reduce not in modes:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        return scatter_reduce(input, dim, index, src, modes[reduce])
    return dispatch("scatter", input, src, index, dim=_dim(input, dim))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """`input` with `src[i][j]` added to `[i][index[i][j]]` (dim 1); repeats accumulate."""
    return dispatch("scatter_add", input, src, index, dim=_dim(input, dim))


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce (`"sum"`, `"prod"`, `"mean"`, `"amax"`, `"amin"`) every `src[i][j]` into
    `[i][index[i][j]]` (dim 1), with the target's own value too unless `include_self=False`."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    return dispatch("scatter_reduce", input, src, index, dim=_dim(input, dim), reduce=reduce,
                    include_self=bool(include_self))


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """`gather` with broadcasting; with no `dim`, over the flattened `input`."""
    if dim is None:
        input, indices, dim = input.reshape(-1), indices.reshape(-1), 0
    if input.dim() != indices.dim():
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.dim()} dimensions for input, "
                           f"and {indices.dim()} dimensions for indices")
    return dispatch("take_along_dim", input, indices, dim=_dim(input, dim))


for _fn in (index_add, index_copy, index_fill, scatter, scatter_add, scatter_reduce):
    setattr(Tensor, _fn.__name__, _fn)
    setattr(Tensor, _fn.__name__ + "_", _inplace(_fn))
Tensor.index_select = index_select
Tensor.take_along_dim = take_along_dim
