"""`graphnet.index_select`, `index_add`, `index_fill`, `index_copy`, `scatter`, `scatter_add`,
`scatter_reduce`, `take_along_dim` and their Tensor methods (the `_` forms compute out of
place and assign, so they trace like `add_`). Kernels and index checks: graphnet/_ops/scatter.py.

>>> import graphnet as torch
>>> torch.zeros(2, 3).scatter_add_(1, torch.tensor([[0, 0], [2, 1]]), torch.ones(2, 2))
tensor([[2., 0., 0.],
        [0., 1., 1.]])
"""

from __future__ import annotations

import numpy as np

from ._overlap import inplace as _inplace
from . import _autograd
from ._arith_checks import check_scalar_fits, integral_scalar
from ._autocast import autocast_as
from ._dispatch import dispatch
from ._errors import wrap_dim
from ._host_reads import host_values
from ._tensor import Tensor
from ._ops._promote import torch_name

__all__ = ["index_add", "index_copy", "index_fill", "index_select", "scatter", "scatter_add",
           "scatter_reduce", "take_along_dim"]


def _dim(input: Tensor, dim: int) -> int:
    """`dim` as a non-negative axis of `input` (a 0-d tensor has dims 0 and -1), or
    PyTorch's 'Dimension out of range' IndexError."""
    return wrap_dim(dim, input.dim())


def _type(t: Tensor) -> str:
    return torch_name(t.dtype)


def _index_types(index, allowed=("int64", "int32")) -> bool:
    if not isinstance(index, Tensor):
        raise TypeError(f"index must be a Tensor, not {type(index).__name__}")
    return index.dtype.name in allowed


def _slice_shape(t: Tensor, dim: int) -> list:
    return [n for d, n in enumerate(t.shape) if d != dim]


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices `index` (1-D, or 0-d: one slice, the dimension kept) of `input` along `dim`,
    in that order."""
    if not _index_types(index):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input.dim() == 0:    # a 0-d input counts as 1-d, and so does its result
        return index_select(input.reshape(1), dim, index).reshape(())
    return dispatch("index_select", input, index.reshape(-1), dim=_dim(input, dim))


def _as_row(source):
    return source.reshape(1) if isinstance(source, Tensor) else source


def _check_source(name: str, input: Tensor, dim: int, index: Tensor, source: Tensor) -> None:
    """index_add's and index_copy's rules for `source`: PyTorch refuses what JAX would
    broadcast or cast (a source of another dtype, fewer rows than indices, other slices)."""
    rows = source.shape[dim] if source.dim() > dim else 1
    if name == "index_add":
        if source.dtype != input.dtype:
            raise RuntimeError(f"index_add_(): self ({_type(input)}) and source "
                               f"({_type(source)}) must have the same scalar type")
        if index.numel() != rows:
            raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be "
                               f"equal to source.size(dim): ({rows}), for dim: {dim}")
        if source.dim() != input.dim() and not (source.dim() <= 1 and input.dim() <= 1) \
                or _slice_shape(source, dim) != _slice_shape(input, dim) \
                or input.dim() and not source.dim():
            raise RuntimeError(f"source tensor shape must match self tensor shape, excluding "
                               f"the specified dimension. Got self.shape = {list(input.shape)} "
                               f"source.shape = {list(source.shape)}")
        return
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_type(input)} and (source) {_type(source)}")
    if source.dim() and input.dim() and source.dim() != input.dim():
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.dim()}), "
                         f"destination dimensionality ({input.dim()})")
    if index.numel() != rows:
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal "
                         f"to source.size(dim) ({rows})")
    dest, src = _slice_shape(input, dim), _slice_shape(source, dim)
    for i, (a, b) in enumerate(zip(dest, src)):
        if a != b:
            raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                               f"shapes. Destination slice shape: {a} at dimension {i} and "
                               f"source slice shape: {b} at dimension {i}.")


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """`input` with `alpha * source[..., i, ...]` added to slice `index[i]`; repeated indices
    accumulate."""
    dim = _dim(input, dim)
    if isinstance(index, Tensor) and index.dim() > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                         f"{index.dim()} with type: {_type(index)} and size: "
                         f"{list(index.shape)}")
    if not _index_types(index):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{_type(index)}")
    if isinstance(source, Tensor):
        _check_source("index_add", input, dim, index, source)
    if alpha != 1 or type(alpha) is not int:
        alpha = integral_scalar(alpha, input.dtype)   # int64 alpha=0.5 added 1, not 0
    if input.dim() == 0:
        return index_add(input.reshape(1), dim, index, _as_row(source), alpha=alpha).reshape(())
    return dispatch("index_add", input, source, index.reshape(-1), dim=dim, alpha=alpha)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """`input` with the slices `index` along `dim` set to `value` (a number or 0-d tensor)."""
    if isinstance(index, Tensor) and index.dim() > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if not _index_types(index, ("int64",)):
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if isinstance(value, Tensor) and value.dim() != 0:   # a 1-element [-2.] was taken
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.dim()} dimension(s).")
    _check_fill_value(value, input.dtype)   # int8 filled with 300 held 44
    if input.dim() == 0:
        return index_fill(input.reshape(1), dim, index, value).reshape(())
    return dispatch("index_fill", input, value, index.reshape(-1), dim=_dim(input, dim))


def _check_fill_value(value, dtype) -> None:
    """PyTorch reads index_fill's value as a number (a 0-d tensor's `.item()`) and refuses one
    that does not fit `dtype`: `int8.index_fill(0, i, tensor(300))` (XLA wrapped it to 44).
    A tensor whose dtype always fits is not read (no host read, no compiled value guard)."""
    if not isinstance(value, Tensor):
        check_scalar_fits(value, dtype)
    elif _may_overflow(value.dtype, dtype):
        number = host_values(
            value, "index_fill()",
            f"index_fill: a {value.dtype} value the compiled code computes may not fit the "
            f"tensor's {dtype} (PyTorch then raises; graphnet cannot check it inside the "
            f"program); convert it first, value.to({dtype}), to write it as that dtype")
        check_scalar_fits(number.reshape(()).item(), dtype)


def _may_overflow(source, target) -> bool:
    """Whether a value of dtype `source` may lie outside `target`'s range."""
    if source == target or source.name == "bool":
        return False
    try:
        return not np.can_cast(source.np, target.np, "safe")
    except TypeError:   # bfloat16 (ml_dtypes): NumPy cannot tell
        return True


@autocast_as("promote")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """`input` with slice `index[i]` along `dim` replaced by `source`'s slice i."""
    dim = _dim(input, dim)
    if isinstance(index, Tensor) and index.dim() > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got "
                         f"{index.dim()})")
    if not _index_types(index, ("int64",)):
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                           f"{_type(index)}")
    if isinstance(source, Tensor):
        _check_source("index_copy", input, dim, index, source)
    if input.dim() == 0:
        return index_copy(input.reshape(1), dim, index, _as_row(source)).reshape(())
    return dispatch("index_copy", input, source, index.reshape(-1), dim=dim)


def _check_scatter(input: Tensor, dim: int, index: Tensor, src) -> None:
    """PyTorch's rules for the scatter family's index and src (before, JAX broadcast an index
    of other rank or cast a src of another dtype)."""
    if not _index_types(index):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    source = src if isinstance(src, Tensor) else None
    if source is not None and source.dtype != input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.numel() == 0:
        return
    rank = max(input.dim(), 1)
    if max(index.dim(), 1) != rank:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    dim = _dim(input, dim)
    ix = tuple(index.shape) or (1,)
    shape = tuple(input.shape) or (1,)
    larger = any(n > m for d, (n, m) in enumerate(zip(ix, shape)) if d != dim)
    if source is not None:
        if max(source.dim(), 1) != rank:
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
        larger = larger or any(n > m for n, m in zip(ix, tuple(source.shape) or (1,)))
    if larger:
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                           f"{list(input.shape)} apart from dimension {dim}"
                           + (f" and to be no larger size than src {list(source.shape)}"
                              if source is not None else ""))


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """`input` with `src[i][j]` (or the number `value`) written to
    `[i][index[i][j]]` (dim 1). `reduce="add"|"multiply"` is `scatter_reduce`'s sum/prod."""
    if (src is None) == (value is None):
        raise TypeError("scatter() takes either src (a tensor) or value (a number), not both")
    src = value if src is None else src
    check_scalar_fits(src, input.dtype)   # a number: int8 scattered with 300 held 44
    if reduce is not None:
        modes = {"add": "sum", "multiply": "prod"}
        if reduce not in modes:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        # PyTorch defines no derivative for scatter's reduce= forms (a backward raises; it
        # gave scatter_reduce's gradient here)
        from ._no_derivative import without_derivative
        return without_derivative(scatter_reduce(input, dim, index, src, modes[reduce]),
                                  (input, src), "scatter")
    _check_scatter(input, dim, index, src)
    return _scatter_op("scatter", input, dim, index, src)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """`input` with `src[i][j]` added to `[i][index[i][j]]` (dim 1); repeats accumulate."""
    _check_scatter(input, dim, index, src)
    return _scatter_op("scatter_add", input, dim, index, src)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce (`"sum"`, `"prod"`, `"mean"`, `"amax"`, `"amin"`) every `src[i][j]` into
    `[i][index[i][j]]` (dim 1), with the target's own value too unless `include_self=False`."""
    if reduce in ("max", "min"):   # PyTorch's forward takes these as amax / amin; its
        if _autograd.is_grad_enabled() and any(   # backward refuses them
                isinstance(t, Tensor) and t.requires_grad for t in (input, src)):
            raise RuntimeError(f"Expected 'reduce' to be one of 'sum', 'prod', 'mean', "
                               f"'amax', 'amin' but got {reduce}.")
        reduce = "a" + reduce
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    _check_scatter(input, dim, index, src)
    return _scatter_op("scatter_reduce", input, dim, index, src, reduce=reduce,
                       include_self=bool(include_self))


def _scatter_op(op: str, input: Tensor, dim: int, index: Tensor, src, **attrs) -> Tensor:
    """Scatter op `op`'s call. A 0-d input (with its 0-d or 1-element index and src) runs as a
    1-d one, as in PyTorch (the kernels and index checks read `input.shape[dim]`)."""
    dim = _dim(input, dim)
    if input.dim() == 0:
        src = src.reshape(-1) if isinstance(src, Tensor) else src
        return _scatter_op(op, input.reshape(1), dim, index.reshape(-1), src,
                           **attrs).reshape(())
    return dispatch(op, input, src, index, dim=dim, **attrs)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """`gather` with broadcasting; with no `dim`, over the flattened `input`."""
    if dim is not None and indices.dtype.name != "int64":
        # NOTE: only with a dim: PyTorch's flattened form is a gather, which takes int32 too
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{torch_name(indices.dtype)}")
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
