"""Reading and writing by computed positions: take, put, index_put, repeat_interleave,
Tensor.unfold, unravel_index, combinations and cartesian_prod.

take, put, repeat_interleave and unfold are ops (graphnet/_ops/shape_extra.py) whose index
checks raise PyTorch's errors in both modes; index_put is the op `x[i] = v` records.

NOTE: `repeat_interleave` with a tensor of repeats has a result length that depends on those
values. Eagerly (or with constant or captured repeats, whose values are then guarded:
graphnet/_host_reads.py) graphnet reads them; inside graphnet.compile with repeats computed
by the program it needs `output_size=` and otherwise raises TraceError.

>>> import graphnet as torch
>>> torch.tensor([1, 2]).repeat_interleave(torch.tensor([2, 1]))
tensor([1, 1, 2])
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from . import _factories as fac
from . import _layout as L
from ._dispatch import dispatch
from ._host_reads import host_values, try_host_values
from ._indexing import _mask_of, _split_index
from ._shape_more import type_name, meshgrid, wrap_dim
from ._tensor import Tensor


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of `input` (as if flattened) at `index`; the result has index's shape."""
    if index.dtype.name != "int64":   # int32 too: PyTorch's take reads Long indices only
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{type_name(index.dtype)}")
    return dispatch("take", input, index)


def _put_args(input: Tensor, index: Tensor, source: Tensor):
    if index.dtype.is_floating_point or index.dtype.name == "bool":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{type_name(index.dtype)}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {type_name(input.dtype)} and source.dtype = "
                           f"{type_name(source.dtype)}")


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of `input` with `source` written at the flat positions `index` (added there
    with `accumulate=True`, where repeated positions add up)."""
    _put_args(input, index, source)
    return dispatch("put", input, index, source, accumulate=bool(accumulate))


def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """`put` in place."""
    return self._assign(put(self, index, source, accumulate))


def index_put(input: Tensor, indices: Sequence, values, accumulate: bool = False) -> Tensor:
    """A copy of `input` with `values` written at `input[indices]` (a tuple of index
    tensors, None for a whole dim); with `accumulate=True` repeated positions add up."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    if len(indices) > input.dim():
        raise IndexError(f"too many indices for tensor of dimension {input.dim()} (got "
                         f"{len(indices)})")
    for i, index in enumerate(indices):
        if not isinstance(index, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(index).__name__}")
    index = tuple(indices)
    values = values if isinstance(values, Tensor) else fac.tensor(values)
    if values.dtype != input.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{type_name(input.dtype)} for the destination and "
                           f"{type_name(values.dtype)} for the source.")
    mask = _mask_of(input, index)
    if mask is not None and _traced(mask):   # compiled: the selected rows are unknown
        written = _traced_mask_put(input, mask, values, accumulate)
        if written is not None:
            return written
    spec, tensors = _split_index(index, tuple(input.shape))
    return dispatch("index_put", input, values, *tensors, spec=spec,
                    accumulate=bool(accumulate))


def _traced(mask: Tensor) -> bool:
    import jax

    return not isinstance(mask._value, jax.Array)


def _traced_mask_put(input: Tensor, mask: Tensor, values: Tensor, accumulate):
    """`index_put((mask,), values)` while tracing, where the mask's selected rows are not
    known: a `where` over them, as `x[mask] = value` compiles, when `values` is one row (or
    broadcasts to one); None when it has one entry per selected row."""
    from ._math import where

    rest = tuple(input.shape)[mask.dim():]
    try:
        if np.broadcast_shapes(tuple(values.shape), rest) != rest:
            return None
    except ValueError:
        return None
    mask = mask.reshape(tuple(mask.shape) + (1,) * len(rest))
    return where(mask, input + values if accumulate else values, input)


def index_put_(self: Tensor, indices: Sequence, values, accumulate: bool = False) -> Tensor:
    """`index_put` in place."""
    return self._assign(index_put(self, indices, values, accumulate))


def _zero_dim_error(repeats, dim: int) -> IndexError:
    """PyTorch 2.13's error for `repeat_interleave` of a 0-d tensor along `dim`: its int path
    reports dims 0 and -1 as 1 (it wraps `dim + 1`)."""
    if isinstance(repeats, Tensor):
        return IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    shown = 1 if dim in (0, -1) else dim
    return IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got "
                      f"{shown})")


def _integer_repeats(repeats: Tensor) -> None:
    """PyTorch's kernel has no float counts (a length regulator's `exp(logd) - 1` without
    `.long()`): its NotImplementedError, not the 1-D message it gave before."""
    if repeats.dtype.is_floating_point or repeats.dtype.is_complex:
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                  f"'{type_name(repeats.dtype)}'")


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or, with `dim`, each slice along it) repeated `repeats` times: an int
    for all, or a tensor with one count per slice. `repeat_interleave(counts)` alone is
    `repeat_interleave(arange(len(counts)), counts)`."""
    if repeats is None:
        counts = input
        _integer_repeats(counts)
        if counts.dim() > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return repeat_interleave(fac.arange(counts.numel(), dtype=counts.dtype), counts,
                                 output_size=output_size)
    if dim is None:
        input, dim = L.reshape(input, -1), 0
    if input.dim() == 0:   # PyTorch refuses every dim of a 0-d input (dim=None flattens it)
        raise _zero_dim_error(repeats, dim)
    dim = wrap_dim(dim, input.dim())
    if isinstance(repeats, Tensor) and repeats.numel() == 1:
        # one count for all: read as int() does (guarded when captured: _host_reads.py); a
        # count the traced code computes stays a tensor (it needs output_size)
        count = try_host_values(repeats, "repeat_interleave()")
        repeats = repeats if count is None else int(count.reshape(()))
    if not isinstance(repeats, Tensor):
        if not isinstance(repeats, (int, np.integer)) or isinstance(repeats, bool):
            raise TypeError(f"repeat_interleave() received an invalid combination of arguments "
                            f"- got ({type(repeats).__name__}, dim=int): repeats must be an int "
                            f"or an integer tensor (`n_heads // n_kv`, not `/`)")
        if int(repeats) < 0:
            raise RuntimeError("repeats can not be negative")
        return dispatch("repeat_interleave", input, count=int(repeats), dim=dim)
    _integer_repeats(repeats)
    if repeats.dim() > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.numel() == 1:
        # a traced single count: PyTorch broadcasts it over every slice along dim
        repeats = L.reshape(repeats, 1).expand(input.shape[dim])
    if repeats.numel() != input.shape[dim]:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {repeats.numel()} and input.size({dim}) = "
                           f"{input.shape[dim]}")
    if output_size is None:
        counts = host_values(
            repeats, "repeat_interleave()",
            "repeat_interleave: with a tensor of repeats that is an input of (or computed "
            "inside) a graphnet.compile'd function, the result's length depends on its values; "
            "pass output_size=<the sum of repeats>, or make the repeats a Python int or constant")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        output_size = int(counts.sum())
    return dispatch("repeat_interleave", input, repeats, dim=dim, output_size=int(output_size))


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """`Tensor.unfold`: every window of `size` elements, `step` apart, along `dimension`;
    that dimension counts the windows and a new last dimension holds each one."""
    rank = self.dim()
    dimension = wrap_dim(dimension, rank)
    length = self.shape[dimension] if rank else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dimension} is {length} but "
                           f"size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if rank == 0:
        return L.reshape(self, 1) if size else L.reshape(self, 1)[:0]
    out = dispatch("unfold", self, dimension=dimension, size=int(size), step=int(step))
    # a view in PyTorch: its windows are strided reads of `self`'s elements, written back
    # the same way
    strides = [int(np.prod(self.shape[d + 1:])) for d in range(rank)]
    window_strides = strides[:dimension] + [strides[dimension] * step] + \
        strides[dimension + 1:] + [strides[dimension]]
    from . import _factories, _strides
    from ._overlap_writes import overlap_view
    from ._strided import _positions

    def forward(new):
        return dispatch("unfold", new, dimension=dimension, size=int(size), step=int(step))

    def places():   # row-major positions in `self` (as_strided_scatter's are storage places:
        return _positions(self, tuple(out.shape), window_strides, 0)   # a .t() scrambled)

    def write(new):
        return dispatch("put", self, _factories.tensor(places()),
                        L.reshape(new.to(self.dtype), -1))

    # PyTorch's strides: self's own, the window dimension's times `step`, and one more
    held, offset = _strides.layout(self)
    held = list(held)
    if step < size and out.shape[dimension] > 1:   # windows share elements
        view = overlap_view(out, self, places, forward)
    else:
        view = L._view_of(out, self, write, forward)
    _strides.set_layout(view, held[:dimension] + [held[dimension] * step] +
                        held[dimension + 1:] + [held[dimension]], offset)
    return view


def unravel_index(indices: Tensor, shape) -> tuple:
    """Flat indices into a tensor of `shape` as one coordinate tensor per dim."""
    if indices.dtype.is_floating_point or indices.dtype.name == "bool":
        raise TypeError(f"expected 'indices' to be integer dtype, but got torch."
                        f"{indices.dtype.name}")
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coefs = [int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape))]
    flat = indices.to(fac.tensor(0).dtype)
    return tuple((flat // c) % s for c, s in zip(coefs, shape))


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """[N, r]: every length-`r` combination of the elements of 1-D `input`, in
    itertools order (`with_replacement` allows repeats)."""
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return fac.zeros(0, dtype=input.dtype)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return input[fac.tensor(index)]


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """[N, k]: every tuple taking one element from each of the k 1-D tensors, the last
    varying fastest (a single tensor comes back as it is)."""
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return L.stack([L.reshape(g, -1) for g in grids], 1)


__all__ = ["take", "put", "index_put", "index_put_", "repeat_interleave", "unravel_index",
           "combinations", "cartesian_prod"]
