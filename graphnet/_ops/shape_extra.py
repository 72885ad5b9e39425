"""More layout ops: diagonals (diagonal, diag_embed, diagonal_scatter), Tensor.unfold's
sliding windows and repeat_interleave.

Everything else in graphnet/_shape_extra.py (rot90, tile, movedim, hstack, meshgrid, take ...)
is a composition of existing ops (permute, flip, cat, getitem, index_put ...) and needs no
kernel of its own. These are the ones that would otherwise take several indexing nodes.

Every kernel takes normalised (non-negative) dims: the functions in _shape_extra.py check
them and raise PyTorch's IndexError first."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import first_failure, first_where
from .scatter import _along_of, overwrite
from ._table import ValueCheck, defop


def _diagonal_positions(rows: int, cols: int, offset: int):
    """Row and column indices of diagonal `offset` of a rows x cols matrix."""
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    i = jnp.arange(length) + max(-offset, 0)
    return i, i + offset


@defop("diagonal", "opaque", function=("diagonal", "diagonal_copy", "linalg.diagonal"),
       method=None)
def diagonal(x, *, offset=0, dim1=0, dim2=1):
    # NOTE: like PyTorch, the diagonal becomes the last dimension of the result.
    return jnp.diagonal(x, offset, dim1, dim2)


@defop("diag_embed", "opaque", method=None, new_dims=1)
def diag_embed(x, *, offset=0, dim1=0, dim2=1):
    n = x.shape[-1] + abs(offset)
    rows, cols = _diagonal_positions(n, n, offset)
    out = jnp.zeros(x.shape[:-1] + (n, n), x.dtype).at[..., rows, cols].set(x)
    return jnp.moveaxis(out, (-2, -1), (dim1, dim2))


@defop("diagonal_scatter", "opaque", method=None)
def diagonal_scatter(x, src, *, offset=0, dim1=0, dim2=1):
    moved = jnp.moveaxis(x, (dim1, dim2), (-2, -1))
    rows, cols = _diagonal_positions(moved.shape[-2], moved.shape[-1], offset)
    moved = moved.at[..., rows, cols].set(src.astype(x.dtype))
    return jnp.moveaxis(moved, (-2, -1), (dim1, dim2))


@defop("unfold", "opaque", function=None, method=None)
def unfold(x, *, dimension, size, step):
    """Windows of `size` every `step` along `dimension`: that dimension becomes the number
    of windows and a new last dimension holds each window."""
    count = (x.shape[dimension] - size) // step + 1
    index = jnp.arange(count)[:, None] * step + jnp.arange(size)
    windows = jnp.take(x, index, axis=dimension)       # (..., count, size, ...)
    return jnp.moveaxis(windows, dimension + 1, -1)


def _bad_repeats(x, repeats=None, *, output_size=None, **_):
    """Negative repeats (facts: 0, the count), or repeats whose sum is not the output_size
    the caller gave (facts: 1, the sum); before, a wrong output_size cut or padded the
    result silently."""
    if repeats is None:   # an int repeat, checked by the function before dispatch
        return False, (0,)
    negative, value = first_where(repeats < 0, repeats)
    if output_size is None:
        return negative, (0, value)
    total = repeats.sum()   # PyTorch checks the size first
    return first_failure([(total != output_size, (1, total)), (negative, (0, value))])


def _repeats_error(facts, **_):
    if facts[0] == 1:
        return RuntimeError("allocated size does not match required size")
    return RuntimeError("repeats can not be negative")


REPEATS = ValueCheck(_bad_repeats, _repeats_error)


@defop("repeat_interleave", "opaque", nondiff_inputs=(1,), check=REPEATS,
       method=None)
def repeat_interleave(x, repeats=None, *, count=None, dim=0, output_size=None):
    """Each slice along `dim` repeated `count` times (an int), or `repeats[i]` times (a
    tensor); `output_size` is the result's length along `dim`, static in a compiled program."""
    return jnp.repeat(x, count if repeats is None else repeats, axis=dim,
                      total_repeat_length=output_size)


def _flat_indices(x, index, *rest, **_):
    """Each index in [-numel, numel) of the flattened input (negative ones count from the end,
    as in PyTorch's take and put)."""
    bad, value = first_where((index < -x.size) | (index >= x.size), index)
    return bad, (value, x.size)


def _flat_error(facts, **_):
    value, numel = facts[:2]
    return IndexError(f"out of range: tried to access index {value} on a tensor of {numel} "
                      f"elements.")


FLAT_INDEX = ValueCheck(_flat_indices, _flat_error)


@defop("take", "opaque", nondiff_inputs=(1,), check=FLAT_INDEX, method=None)
def take(x, index):
    return x.reshape(-1)[index]


@defop("put", "opaque", nondiff_inputs=(1,), check=FLAT_INDEX, method=None)
def put(x, index, source, *, accumulate=False):
    """`x` with `source`'s elements written (or with `accumulate`, added) at the flat
    positions `index`; repeated positions accumulate."""
    flat, where, values = x.reshape(-1), index.reshape(-1), source.reshape(-1).astype(x.dtype)
    if accumulate:
        return flat.at[where].add(values).reshape(x.shape)
    return overwrite(_along_of, 0)(flat, values, where).reshape(x.shape)


@defop("view_dtype", "opaque", differentiable=False, function=None, method=None)
def view_dtype(x, *, dtype):
    """The bytes of `x` read as `dtype` (`Tensor.view(dtype)`): a wider dtype takes its
    elements from consecutive ones of the last dimension, a narrower one splits each element
    along it, as a row-major memory layout reads them. A bool is a byte."""
    dtype = np.dtype(dtype)
    if x.dtype == jnp.bool_:
        x = x.astype(jnp.uint8)
    target = np.dtype(np.uint8) if dtype == np.bool_ else dtype
    wide, narrow = x.dtype.itemsize, target.itemsize
    if wide > narrow:       # each element splits into wide // narrow along the last dim
        out = jax.lax.bitcast_convert_type(x, target)
        out = out.reshape(*x.shape[:-1], x.shape[-1] * (wide // narrow))
    elif wide < narrow:     # consecutive groups of narrow // wide become one element
        ratio = narrow // wide
        grouped = x.reshape(*x.shape[:-1], x.shape[-1] // ratio, ratio)
        out = jax.lax.bitcast_convert_type(grouped, target)
    else:
        out = jax.lax.bitcast_convert_type(x, target)
    return out != 0 if dtype == np.bool_ else out
