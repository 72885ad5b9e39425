"""Selection whose result size depends on the values: `nonzero`, `argwhere`, `unique`,
`unique_consecutive`, `bincount`, `masked_select`; and `nonzero_static`, `masked_scatter`,
`isin`, whose shapes do not (and `histc`, `histogram`, `histogramdd`: graphnet/_histogram.py).

Eagerly the values are at hand, so each value-dependent function counts its result size on
the host and runs the op (graphnet/_ops/select.py) with that size: PyTorch's exact shapes.
Inside `graphnet.compile` the values of a computed tensor do not exist yet; those functions
raise a TraceError naming the way out (`nonzero_static(size=)`, `torch.where`, or running that
part outside the compiled function) instead of guessing a size. A captured tensor (a buffer, a
global) has its values: the size is counted from them and guarded (graphnet/_host_reads.py),
so a call after they change traces again.

>>> import graphnet as torch
>>> torch.tensor([0, 3, 0, 5]).nonzero()
tensor([[1],
        [3]])
"""

from __future__ import annotations

import math
import operator

import jax
import numpy as np

from ._overlap import inplace as _inplace
from ._dispatch import dispatch
from ._errors import dimension_error
from ._histogram import histc, histogram, histogramdd
from ._dtype import int64
from ._host_reads import host_values
from ._ops._promote import torch_name
from ._tensor import Tensor

__all__ = ["nonzero", "nonzero_static", "argwhere", "unique", "unique_consecutive", "bincount",
           "masked_select", "masked_scatter", "histc", "histogram", "histogramdd", "isin"]


def _host(tensor: Tensor, op: str, way_out: str) -> np.ndarray:
    """`tensor`'s values on the host, guarded inside a trace when captured (_host_reads.py);
    for a value the traced code computes, the TraceError that says why not."""
    return host_values(tensor, f"{op}()", f"{op}() has an output shape that depends on the "
                       f"input's values, so it cannot be part of a compiled (static) graph; "
                       f"{way_out}")


def _tensor(x, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    from ._factories import tensor

    return tensor(x)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """The first `size` rows of `nonzero(input)`, padded with `fill_value`: a static shape,
    so it compiles."""
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    return dispatch("nonzero", input, size=int(size), fill_value=int(fill_value))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Coordinates of the non-zero entries, (n, ndim) int64 (or a tuple of ndim 1-D tensors
    with `as_tuple=True`)."""
    if not isinstance(as_tuple, (bool, np.bool_)):   # PyTorch's argument parser refuses 1
        raise TypeError(f"nonzero(): argument 'as_tuple' must be bool, not "
                        f"{type(as_tuple).__name__}")
    count = int(np.count_nonzero(_host(
        input, "nonzero", "use nonzero_static(input, size=bound) or torch.where(mask, x, y), "
        "or call nonzero() outside the compiled function")))
    coords = nonzero_static(input, size=count)
    if not as_tuple:
        return coords
    if input.dim() == 0:   # as PyTorch: a 0-d tensor is a 1-element vector here
        return nonzero(input.reshape(1), as_tuple=True)
    return tuple(coords[:, d] for d in range(input.dim()))


def argwhere(input: Tensor) -> Tensor:
    """`nonzero(input)`: the (n, ndim) coordinates of the non-zero entries."""
    return nonzero(input)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries of `input` (broadcast with `mask`) where `mask` is True, as a 1-D tensor."""
    mask = _tensor(mask)
    if mask.dtype.name != "bool":
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    host = _host(mask, "masked_select", "use torch.where(mask, input, 0) to keep the shape, "
                 "or call masked_select() outside the compiled function")
    shape = np.broadcast_shapes(tuple(input.shape), host.shape)
    return dispatch("masked_select", input, mask, size=int(np.broadcast_to(host, shape).sum()))


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """`input` with the positions where `mask` is True filled, in row-major order, by
    consecutive elements of `source` (a static shape: compiles)."""
    mask = _tensor(mask)
    if mask.dtype.name != "bool":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got {input.dtype} and {source.dtype}")
    shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    if shape != tuple(input.shape):   # out of place, the two broadcast together (PyTorch)
        input = input.expand(shape)
    return dispatch("masked_scatter", input, mask, source)


_Unique = "unique", "use torch.sort or a fixed-size one_hot instead, or call it outside the " \
                    "compiled function"


def _dim_or_none(input: Tensor, dim):
    if dim is None:
        return None
    rank = input.dim()
    if not -rank <= dim < rank:
        raise dimension_error(dim, rank)
    return dim % rank


def _slices(host: np.ndarray, dim: int) -> np.ndarray:
    """`host`'s slices along `dim`, one per row; an empty input must be empty along `dim`
    alone (PyTorch's errors: its slices would be empty and still count as values)."""
    if host.size == 0:
        if host.shape[dim] != 0:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so "
                               "unique cannot be applied")
        if host.shape.count(0) > 1:
            raise RuntimeError("Number of zero sized dimensions is more than one, so unique "
                               "cannot be applied ")
    moved = np.moveaxis(host, dim, 0)
    return moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))


def _unique_result(outputs, return_inverse: bool, return_counts: bool):
    values, inverse, counts = outputs
    if not return_inverse and not return_counts:
        return values
    return (values,) + ((inverse,) if return_inverse else ()) + \
        ((counts,) if return_counts else ())


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct values (or slices along `dim`), sorted, with the inverse indices and the
    counts on request. NOTE: graphnet always sorts (PyTorch's CPU result with sorted=False
    is also sorted for the ordinary dtypes)."""
    host = _host(input, *_Unique)
    dim = _dim_or_none(input, dim)
    if dim is None:
        size = len(np.unique(host, equal_nan=False))
    else:
        size = len(np.unique(_slices(host, dim), axis=0, equal_nan=False))
    outputs = dispatch("unique", input, size=size, dim=dim)
    return _unique_result(outputs, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim: int | None = None):
    """Collapse each run of equal consecutive values (or slices along `dim`) into one."""
    host = _host(input, "unique_consecutive", _Unique[1])
    dim = _dim_or_none(input, dim)
    rows = host.reshape(-1, 1) if dim is None else _slices(host, dim)
    size = int(rows.shape[0] > 0) + int(np.any(rows[1:] != rows[:-1], axis=1).sum())
    outputs = dispatch("unique_consecutive", input, size=size, dim=dim)
    return _unique_result(outputs, return_inverse, return_counts)


def _minlength(minlength) -> int:
    """`minlength` as an int; PyTorch's TypeError for a float, bool or None."""
    if not isinstance(minlength, bool):
        try:
            return operator.index(minlength)
        except TypeError:
            pass
    raise TypeError(f"bincount(): argument 'minlength' must be int, not "
                    f"{type(minlength).__name__}")


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in a 1-D non-negative integer tensor (the sum
    of `weights` at its positions instead, when given). Compiled, the result has
    `minlength` bins and a value beyond them raises (without minlength: a TraceError)."""
    minlength = _minlength(minlength)
    if input.dtype.is_floating_point or input.dtype.name == "bool":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{torch_name(input.dtype)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.dim() == 1 and input.numel() == 0:   # PyTorch: int64 zeros, weights or not
        from ._factories import zeros

        return zeros(minlength, dtype=int64)
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and tuple(weights.shape) != tuple(input.shape):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights is not None and weights.dtype.name not in ("float32", "float64"):
        weights = weights.double()   # PyTorch sums other weights (half, int, bool) in float64
    inputs = (input,) if weights is None else (input, weights)
    if not isinstance(input._value, jax.Array) and minlength > 0:
        # compiled: minlength bounds the length; a larger value raises after the call
        return _weighted(dispatch("bincount", *inputs, length=minlength, bounded=True),
                         weights)
    host = _host(input, "bincount", "pass minlength=n to bound the values (then it compiles), "
                 "or use one_hot(input, n).sum(0), or call it outside the compiled function")
    length = max(minlength, int(host.max()) + 1 if host.size else 0)
    return _weighted(dispatch("bincount", *inputs, length=length), weights)


def _weighted(counts: Tensor, weights) -> Tensor:
    """`counts`, in autograd when `weights` requires grad, with PyTorch's backward error
    (before, a loss mixing it with other terms silently lost that part of its gradient)."""
    if weights is None:
        return counts
    from ._no_derivative import without_derivative

    return without_derivative(counts, (weights,), "bincount")


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """Whether each element of `elements` is in `test_elements` (a bool tensor)."""
    return dispatch("isin", _tensor(elements), _tensor(test_elements),
                    assume_unique=bool(assume_unique), invert=bool(invert))


for _fn in (nonzero, nonzero_static, argwhere, unique, unique_consecutive, bincount,
            masked_select, masked_scatter):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.masked_scatter_ = _inplace(masked_scatter)
