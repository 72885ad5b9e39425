"""Selection ops whose natural output size depends on the input's values: nonzero, unique,
unique_consecutive, bincount, masked_select; and their static-shape neighbours masked_scatter
and isin (histc and histogram: histogram.py, registered from here).

Every kernel here has a static output shape: the value-dependent ones take the size as an
attribute (`size`, `length`), exactly like `torch.nonzero_static` and `jnp.unique(size=)`.
The user-facing functions (graphnet/_select.py) read that size from the values on the host
in eager mode, where the values are at hand; inside a trace they are not, and those
functions raise a TraceError that names the way out. So a compiled program never guesses a
size, and an eager call returns exactly PyTorch's shape."""

from __future__ import annotations

import jax.numpy as jnp

from . import histogram  # noqa: F401  (registration: histc, histogram)
from ._checks import _xp, first_where
from ._table import ValueCheck, defop


def _flat_nonzero(mask, size: int):
    """The first `size` positions of True in a flat mask, padded with the mask's length."""
    return jnp.nonzero(mask.reshape(-1), size=size, fill_value=mask.size)[0]


_NAMES = dict(function=None, method=None)   # graphnet/_select.py binds the functions


@defop("nonzero", "opaque", differentiable=False, **_NAMES)
def nonzero(x, *, size, fill_value=-1):
    """(size, ndim) int64 coordinates of the non-zero entries in row-major order; rows past
    the last one are `fill_value`, as torch.nonzero_static."""
    if x.ndim == 0:   # a 0-d tensor has no coordinates: (size, 0), as in PyTorch
        return jnp.zeros((size, 0), jnp.int64)
    out = jnp.stack(jnp.nonzero(x, size=size, fill_value=-1), axis=1)
    found = jnp.arange(size) < jnp.count_nonzero(x)
    return jnp.where(found[:, None], out, fill_value).astype(jnp.int64)


@defop("masked_select", "opaque", nondiff_inputs=(1,), **_NAMES)
def masked_select(x, mask, *, size):
    """The `size` entries of x (broadcast with mask) where mask is True, row-major."""
    shape = jnp.broadcast_shapes(x.shape, mask.shape)
    flat = jnp.broadcast_to(x, shape).reshape(-1)
    return flat[_flat_nonzero(jnp.broadcast_to(mask, shape), size)]


def _too_few(x, mask, source):
    xp = _xp(mask)
    count = xp.broadcast_to(mask, xp.broadcast_shapes(x.shape, mask.shape)).sum()
    return count > source.size, ()


def _too_few_error(facts):
    return RuntimeError("Number of elements of source < number of ones in mask")


@defop("masked_scatter", "opaque", nondiff_inputs=(1,), **_NAMES,
       check=ValueCheck(_too_few, _too_few_error, values_from=1))
def masked_scatter(x, mask, source):
    """x with the positions where mask is True filled, in row-major order, by consecutive
    elements of `source`: a gather by the running count of the mask, so it has a static
    shape and `source` gets its gradient at the positions it was read from."""
    if source.size == 0:   # nothing to read: the check saw that the mask has no True
        return x
    mask = jnp.broadcast_to(mask, x.shape)
    taken = jnp.cumsum(mask.reshape(-1)) - 1
    picked = source.reshape(-1)[jnp.clip(taken, 0, max(source.size - 1, 0))]
    return jnp.where(mask, picked.reshape(x.shape).astype(x.dtype), x)


@defop("unique", "opaque", n_outputs=3, differentiable=False, **_NAMES)
def unique(x, *, size, dim=None):
    """(values, inverse, counts) with `size` distinct values (or slices along `dim`), sorted."""
    if dim is None:
        values, inverse, counts = jnp.unique(x.reshape(-1), return_inverse=True,
                                             return_counts=True, size=size,
                                             equal_nan=False)   # PyTorch: each NaN distinct
        return values, inverse.reshape(x.shape).astype(jnp.int64), counts.astype(jnp.int64)
    moved = jnp.moveaxis(x, dim, 0)
    if moved.shape[0] == 0:     # no slices (graphnet/_select.py refuses other empty inputs)
        return x, jnp.zeros(0, jnp.int64), jnp.zeros(0, jnp.int64)
    rows = moved.reshape(moved.shape[0], -1)
    values, inverse, counts = jnp.unique(rows, axis=0, return_inverse=True, return_counts=True,
                                         size=size, equal_nan=False)
    values = jnp.moveaxis(values.reshape((size,) + moved.shape[1:]), 0, dim)
    return values, inverse.reshape(-1).astype(jnp.int64), counts.astype(jnp.int64)


@defop("unique_consecutive", "opaque", n_outputs=3, differentiable=False, **_NAMES)
def unique_consecutive(x, *, size, dim=None):
    """(values, inverse, counts) of runs of equal values (slices along `dim`)."""
    moved = x.reshape(-1, 1) if dim is None else jnp.moveaxis(x, dim, 0)
    n = moved.shape[0]
    if n == 0:     # no values or slices: no runs (the inverse keeps the input's shape)
        empty = jnp.zeros(0, jnp.int64)
        return (x.reshape(-1) if dim is None else x), \
            (jnp.zeros(x.shape, jnp.int64) if dim is None else empty), empty
    rows = moved.reshape(n, -1)
    starts = jnp.concatenate([jnp.ones((1,), bool), jnp.any(rows[1:] != rows[:-1], axis=1)])
    first = jnp.nonzero(starts, size=size, fill_value=n)[0]
    inverse = (jnp.cumsum(starts) - 1).astype(jnp.int64)
    counts = (jnp.append(first[1:], n) - first).astype(jnp.int64)
    picked = jnp.take(moved, jnp.clip(first, 0, n - 1), axis=0)
    if dim is None:
        return picked.reshape(-1), inverse.reshape(x.shape), counts
    return jnp.moveaxis(picked, 0, dim), inverse, counts


def _out_of_range(x, *rest, length, bounded=False):
    """A negative value (PyTorch's error); with `bounded` (a compiled call sized by
    minlength), also a value the fixed length cannot count."""
    x = x.astype("int64")   # a uint8 code against minlength=256 must not wrap
    bad, value = first_where((x < 0) | ((x >= length) if bounded else (x < 0)), x)
    return bad, (value,)


def _out_of_range_error(facts, *, length, bounded=False):
    if facts[0] < 0 or not bounded:
        return RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    return RuntimeError(f"bincount in a compiled function counts into minlength={length} bins, "
                        f"but the input holds {facts[0]}; raise minlength to bound every value, "
                        f"or call bincount outside the compiled function")


@defop("bincount", "opaque", differentiable=False, **_NAMES,
       check=ValueCheck(_out_of_range, _out_of_range_error, values_from=0))
def bincount(x, weights=None, *, length, bounded=False):
    """Counts of 0..length-1. `bounded`: a compiled call's length is minlength, and its
    check raises for a value beyond it (eager calls size the length from the values)."""
    x = x.astype(jnp.int64)   # narrow codes (uint8, int8) counted into more bins than they hold
    if weights is None:
        return jnp.bincount(x, length=length).astype(jnp.int64)
    # PyTorch sums integer or bool weights as float64
    dtype = weights.dtype if jnp.issubdtype(weights.dtype, jnp.floating) else jnp.float64
    return jnp.bincount(x, weights.astype(dtype), length=length).astype(dtype)


@defop("isin", "opaque", differentiable=False, **_NAMES)
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    found = jnp.isin(elements, test_elements)
    return ~found if invert else found
