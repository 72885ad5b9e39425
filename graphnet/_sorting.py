"""Sorting and selection as PyTorch spells them: `sort`, `argsort`, `msort`, `topk`,
`kthvalue` (functions and Tensor methods), `searchsorted` and `bucketize` (functions).

`sort`, `topk` and `kthvalue` return a named tuple `(values, indices)`, like
torch.return_types, with int64 indices; the values are differentiable, the indices are not.
The kernels are the ops in graphnet/_ops/sort.py.

>>> import graphnet as torch
>>> torch.tensor([3.0, 1.0, 2.0]).topk(2)
topk(values=tensor([3., 2.]), indices=tensor([0, 2]))
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from ._dispatch import dispatch
from ._errors import int_argument, wrap_dim
from ._mode import tracing
from ._ops._promote import torch_name
from ._tensor import Tensor
from .return_types import return_type

# PyTorch's torch.return_types.sort / topk / kthvalue: the same fields, printed by op name.
_SortResult = return_type("sort", ["values", "indices"])
_TopkResult = return_type("topk", ["values", "indices"])
_KthvalueResult = return_type("kthvalue", ["values", "indices"])


def _dim(input: Tensor, dim: int) -> int:
    """`dim` as a non-negative axis of `input` (a 0-d tensor has dims 0 and -1), or
    PyTorch's 'Dimension out of range' IndexError."""
    return wrap_dim(dim, input.dim())


def _along(op: str, result, input: Tensor, dim: int, **attrs):
    """Dispatch `op` along `dim`; a 0-d input runs as one element and comes back 0-d."""
    dim = _dim(input, dim)
    if input.dim() == 0:
        values, indices = dispatch(op, input.reshape(1), dim=0, **attrs)
        return result(values.reshape(()), indices.reshape(()))
    return result(*dispatch(op, input, dim=dim, **attrs))


def _stable_overload(fn):
    """PyTorch's `sort`/`argsort` taking `stable=` are the overloads whose `dim` and
    `descending` are keywords too: `argsort(x, 1, stable=True)` raises its TypeError (it
    sorted here)."""
    @functools.wraps(fn)
    def checked(input, *args, **kwargs):
        if "stable" in kwargs and args:
            given = ", ".join(["Tensor"] + [type(a).__name__ for a in args] +
                              [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
            raise TypeError(f"{fn.__name__}() received an invalid combination of arguments - "
                            f"got ({given}); with stable=, dim and descending are keywords")
        return fn(input, *args, **kwargs)
    return checked


@_stable_overload
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """Sorted values along `dim` and where they came from: `(values, indices)`.

    Equal values keep their input order whether or not `stable` is set (a valid answer for
    PyTorch's unstable sort too). `graphnet.sort(x, descending=True).values[..., 0]` is the
    largest value of each row."""
    del stable   # always stable
    return _along("sort", _SortResult, input, dim, descending=bool(descending))


@_stable_overload
def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False):
    """The int64 indices that sort `input` along `dim` (`sort(...).indices`)."""
    return sort(input, dim=dim, descending=descending, stable=stable).indices


def msort(input: Tensor):
    """`input` sorted along its first dimension (`sort(input, dim=0).values`)."""
    return sort(input, dim=0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The `k` largest (or, with `largest=False`, smallest) values along `dim` and their
    indices, best first. `sorted=False` returns them in that same order, one of the orders
    PyTorch allows. `graphnet.topk(logits, 5).indices` are a classifier's top-5 classes."""
    del sorted   # always sorted
    k = int_argument(k, "topk", "k")
    size = 1 if input.dim() == 0 else input.shape[_dim(input, dim)]
    if not 0 <= k <= size:
        raise RuntimeError(f"topk(): selected index k out of range: k={k} for a dimension of "
                           f"size {size} (input shape {tuple(input.shape)}, dim={dim})")
    if input.dtype.name == "bool":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if input.dim() == 0:   # PyTorch: a 0-d result holds the element even for k=0
        k = 1
    return _along("topk", _TopkResult, input, dim, k=int(k), largest=bool(largest))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The `k`-th smallest value along `dim` (k counts from 1) and its index;
    `keepdim=True` keeps `dim` with size 1."""
    k = int_argument(k, "kthvalue", "k", 2)
    size = 1 if input.dim() == 0 else input.shape[_dim(input, dim)]
    if size == 0:   # PyTorch's IndexError, before it looks at k
        raise IndexError(f"kthvalue(): Expected reduction dim {_dim(input, dim)} to have "
                         f"non-zero size.")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range: k={k} for a "
                           f"dimension of size {size} (input shape {tuple(input.shape)}, "
                           f"dim={dim}); k counts from 1")
    if input.dtype.name == "bool":
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    return _along("kthvalue", _KthvalueResult, input, dim, k=int(k), keepdim=bool(keepdim))


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Tensor | None = None):
    """Where each value of `input` would be inserted into `sorted_sequence` (sorted along its
    last dim) to keep it sorted: the first such place, or the last with `right=True` or
    `side="right"`. A 1-D sequence serves every value; otherwise its leading dims must
    match `input`'s. `sorter` (int64) sorts an unsorted sequence, as `argsort` gives it."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted(): side and right can't be set to opposites, got "
                               "side of left while right was True")
        right = side == "right"
    values_bool = isinstance(input, bool) or (isinstance(input, Tensor)
                                               and input.dtype.name == "bool")
    if sorted_sequence.dtype.name == "bool" and values_bool:   # they promote to bool
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    if sorter is not None:
        _check_sorter(sorted_sequence, sorter)
        sorted_sequence = sorted_sequence.gather(-1, sorter)
    sequence_shape = tuple(sorted_sequence.shape)
    if len(sequence_shape) > 1:
        values_shape = tuple(input.shape) if isinstance(input, Tensor) else ()
        if values_shape[:-1] != sequence_shape[:-1]:
            raise RuntimeError(
                f"searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                f"dimensions of boundaries tensor and input value tensor must match, but we "
                f"got boundaries tensor {list(sequence_shape)} and input value tensor "
                f"{list(values_shape)}")
    return dispatch("searchsorted", sorted_sequence, input, right=bool(right),
                    out_int32=bool(out_int32))


def _check_sorter(sequence: Tensor, sorter: Tensor) -> None:
    """PyTorch's checks of `sorter`: the sequence's shape, int64, and (where its values can
    be read: eagerly) each index within the last dim. A compiled call's out-of-range index
    raises gather's error instead."""
    if tuple(sorter.shape) != tuple(sequence.shape):
        raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same "
                           f"size, but got boundary tensor {list(sequence.shape)}and got "
                           f"sorter tensor {list(sorter.shape)}")
    if sorter.dtype.name != "int64":
        raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but "
                           f"got dtype {torch_name(sorter.dtype)}")
    if sorter.numel() and isinstance(sorter._value, jax.Array) and not tracing():
        values = np.asarray(sorter._value)
        if values.min() < 0 or values.max() >= sorter.shape[-1]:
            raise RuntimeError("torch.searchsorted(): sorter index out of range")


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False):
    """The bucket of each value of `input` between 1-D `boundaries`: `i` such that
    `boundaries[i-1] < x <= boundaries[i]` (`<=` then `<` with `right=True`)."""
    if not isinstance(boundaries, Tensor):
        raise TypeError(f"bucketize() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(boundaries).__name__}): boundaries "
                        f"must be a Tensor")
    if boundaries.dim() != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.dim()}); use searchsorted for rows of boundaries")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


for _name, _fn in [("sort", sort), ("argsort", argsort), ("msort", msort), ("topk", topk),
                   ("kthvalue", kthvalue)]:
    setattr(Tensor, _name, _fn)

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "searchsorted", "bucketize"]
