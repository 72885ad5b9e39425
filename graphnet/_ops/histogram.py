"""Histogram kernels, binned as PyTorch's CPU kernel bins: histc, and histogram, which
serves both torch.histogram and torch.histogramdd.

Each has a static output shape (the bin counts are attributes). Where the range comes from
the data (histc with min == max, histogram and histogramdd without `range`), a value check
raises PyTorch's "range ... is not finite" for a NaN or infinite value: eagerly before the
kernel, in a compiled call on its inputs or inside the program (compiler/checks.py). The
range's two ends travel to the error as the bits of float64 numbers, since a check's facts
are int64 scalars. Ranges given as numbers are checked where they are given
(graphnet/_histogram.py)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import _xp
from ._table import ValueCheck, defop

_NAMES = dict(function=None, method=None)   # graphnet/_histogram.py binds the functions


def _exact_div(a, b):
    """`a / b` rounded as IEEE division: XLA's CPU backend turns a division by a broadcast
    scalar into a multiplication by its reciprocal (off by an ulp for about 1 value in 3),
    unless it cannot see through the divisor."""
    return a / jax.lax.optimization_barrier(jnp.broadcast_to(b, jnp.shape(a)))


def _fma(step, count, add):
    """`step * count + add` rounded once, as PyTorch's CPU kernels compute it (compiled with
    FMA contraction). `count` holds whole numbers below 2**26, so the products below are
    exact, and XLA fusing any of them into an FMA of its own changes nothing."""
    if step.dtype == jnp.float32:   # exact in float64, then rounded once
        wide = add.astype(jnp.float64) + step.astype(jnp.float64) * count.astype(jnp.float64)
        return wide.astype(jnp.float32)
    bits = jax.lax.bitcast_convert_type(step, jnp.int64)
    high = jax.lax.bitcast_convert_type(bits & ~jnp.int64((1 << 27) - 1), jnp.float64)
    head, tail = high * count, (step - high) * count   # each exact: at most 53 bits
    total = add + head
    back = total - add
    error = (add - (total - back)) + (head - back)     # total + error == add + head exactly
    return total + (error + tail)


def torch_linspace(low, high, steps: int, dtype):
    """PyTorch's CPU linspace: `fma(step, i, start)` for the first half of the points and
    `fma(-step, steps - 1 - i, end)` for the rest, in `dtype` (its scalar loop, which runs
    every point of a linspace shorter than 16; a longer one's vectorized chunks can differ
    from it by an ulp)."""
    start, end = jnp.asarray(low, dtype), jnp.asarray(high, dtype)
    if steps == 1:
        return start[None]
    step = _exact_div(end - start, jnp.asarray(steps - 1, dtype))
    i = jnp.arange(steps)
    shape = (steps,)
    head = _fma(jnp.broadcast_to(step, shape), i.astype(dtype), jnp.broadcast_to(start, shape))
    tail = _fma(jnp.broadcast_to(-step, shape), (steps - 1 - i).astype(dtype),
                jnp.broadcast_to(end, shape))
    return jnp.where(i < steps // 2, head, tail)


def _widened(low, high, by: float):
    """An empty range [v, v] as [v - by, v + by] (float64), as PyTorch widens it."""
    same = low == high
    return jnp.where(same, low - by, low), jnp.where(same, high + by, high)


def _bin_of(values, edges):
    """Each value's bin among monotonic `edges` (the last bin holds its right edge), and
    whether it falls in any (NaN falls in none)."""
    n = edges.shape[0] - 1
    which = jnp.searchsorted(edges, values, side="right") - 1
    which = jnp.where(which == n, n - 1, which)
    return which, (values >= edges[0]) & (values <= edges[-1])


# ---- the value checks: a non-finite range read from the data ----------------------------

def _bits(xp, v):
    v = xp.asarray(v).astype(xp.float64)
    return v.view(xp.int64) if xp is np else jax.lax.bitcast_convert_type(v, jnp.int64)


def cpp_double(value: float) -> str:
    """A double as PyTorch's messages print it (C++ `<<`: 6 significant digits)."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return f"{value:g}"


def _from_bits(bits: int) -> str:
    return cpp_double(float(np.asarray(bits, np.int64).view(np.float64)))


def _data_extremes(x, xp):
    """(min, max) per column of a 2-D array, as float64."""
    return x.min(axis=0).astype(xp.float64), x.max(axis=0).astype(xp.float64)


def _histc_range(x, *, bins, min, max):
    xp = _xp(x)
    if min != max or x.size == 0:   # a given range: checked where it is given
        return xp.asarray(False), ()
    low, high = _data_extremes(x.reshape(-1, 1), xp)
    bad = ~(xp.isfinite(low[0]) & xp.isfinite(high[0]))
    return bad, (_bits(xp, low[0]), _bits(xp, high[0]))


def _histc_error(facts, **_):
    return RuntimeError(f"torch.histc: range of [{_from_bits(facts[0])}, "
                        f"{_from_bits(facts[1])}] is not finite")


def _columns_range(x, weight, *edges, ranges=None, **_):
    """The first column whose data range (no `ranges`, no edges) is not finite."""
    xp = _xp(x)
    if ranges is not None or edges or x.size == 0:
        return xp.asarray(False), ()
    low, high = _data_extremes(x, xp)
    bad = ~(xp.isfinite(low) & xp.isfinite(high))
    dim = xp.argmax(bad)
    return bad.any(), (dim, _bits(xp, low[dim]), _bits(xp, high[dim]))


def _columns_error(facts, **_):
    return RuntimeError(f"torch.histogramdd: dimension {facts[0]}'s range "
                        f"[{_from_bits(facts[1])}, {_from_bits(facts[2])}] is not finite")


# ---- the kernels --------------------------------------------------------------------------

@defop("histc", "opaque", differentiable=False, **_NAMES,
       check=ValueCheck(_histc_range, _histc_error, values_from=0))
def histc(x, *, bins=100, min=0.0, max=0.0):
    """Counts in `bins` equal bins over [min, max] (the data's range when min == max); values
    outside are ignored, the last bin includes `max`. The bin is PyTorch's linear
    interpolation `(v - low) * bins / (high - low)`, in x's dtype; the counts are integers
    given x's dtype at the end."""
    flat = x.reshape(-1)
    if min == max and flat.size:
        low, high = flat.min().astype(jnp.float64), flat.max().astype(jnp.float64)
    else:
        low, high = jnp.asarray(min, jnp.float64), jnp.asarray(max, jnp.float64)
    low, high = _widened(low, high, 1.0)
    low, high = low.astype(x.dtype), high.astype(x.dtype)
    which = _exact_div((flat - low) * jnp.asarray(bins, x.dtype), high - low).astype(jnp.int64)
    which = jnp.where(which == bins, bins - 1, which)
    inside = (flat >= low) & (flat <= high)
    # NOTE: counted as integers, then given x's dtype: counted in bfloat16 (float16) a bin
    # stopped at 256 (2048), where adding 1 no longer changes the count (PyTorch: 300 for 300)
    counts = jnp.zeros(bins, jnp.int64).at[jnp.where(inside, which, bins)].add(1, mode="drop")
    return counts.astype(x.dtype)


@defop("histogram", "opaque", n_outputs=2, differentiable=False, **_NAMES,
       check=ValueCheck(_columns_range, _columns_error, values_from=0))
def histogram(x, weight, *edges, bins=None, ranges=None, density=False):
    """(hist, edges): the histogram of the rows of `x` (M, D) and each dimension's edges,
    padded with their last edge to one (D, longest) array. The edges are the given 1-D
    `edges`, or `bins[d] + 1` points over `ranges[d]` (default: the column's min and max,
    widened by 0.5 when equal; [0, 1] without data). torch.histogram is the case D = 1,
    torch.histogramdd any D >= 1."""
    d = x.shape[1]
    if not edges:
        if ranges is not None:
            low = jnp.asarray([r[0] for r in ranges], jnp.float64)
            high = jnp.asarray([r[1] for r in ranges], jnp.float64)
        elif x.shape[0]:
            low, high = x.min(axis=0).astype(jnp.float64), x.max(axis=0).astype(jnp.float64)
        else:
            low, high = jnp.zeros(d, jnp.float64), jnp.ones(d, jnp.float64)
        low, high = _widened(low, high, 0.5)
        edges = [torch_linspace(low[i], high[i], bins[i] + 1, x.dtype) for i in range(d)]
    sizes = tuple(e.shape[0] - 1 for e in edges)
    index, inside = jnp.zeros(x.shape[0], jnp.int64), jnp.ones(x.shape[0], bool)
    for i, e in enumerate(edges):
        which, within = _bin_of(x[:, i], e)
        index, inside = index * sizes[i] + which, inside & within
    total = math.prod(sizes)
    w = jnp.ones(x.shape[0], x.dtype) if weight is None else weight.reshape(-1)
    hist = jnp.zeros(total, x.dtype).at[jnp.where(inside, index, total)].add(w, mode="drop")
    hist = hist.reshape(sizes)
    if density:   # PyTorch divides by the total, then by each dimension's bin widths
        hist = hist / hist.sum()
        for i, e in enumerate(edges):
            hist = hist / jnp.diff(e).reshape((1,) * i + (-1,) + (1,) * (d - 1 - i))
    longest = max(e.shape[0] for e in edges)
    padded = jnp.stack([jnp.pad(e, (0, longest - e.shape[0]), mode="edge") for e in edges])
    return hist, padded
