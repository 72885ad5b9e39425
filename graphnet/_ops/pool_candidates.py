"""The ways `max_pool` (dilation 1) can be lowered, as interchangeable candidates: the pooling
counterpart of conv_candidates.py, timed per shape by conv_autotune.py.

Every candidate is `f(x, kernel_size, stride, padding, ceil_mode) -> values` over the trailing
len(kernel_size) axes, and its gradient sends each window's cotangent to the element PyTorch's
max_pool picks (`winner_rule`): the first maximum in its scan order (row-major), or the last
NaN of a window that holds NaNs; ties are not split.

- `window_stack`: every window's elements stacked [K, ...], argmax, gather; the gradient is
  the gather's transpose (a scatter-add into the stack, then each slice's pad).
- `tiled_winner`: windows that tile the input (stride == kernel, no padding): a reshape to
  [..., out, k, ...] and one reduction over the k axes that keeps each window's first
  maximum with its offset (`first_max`); the backward broadcasts the cotangent to that
  offset, with no gather or scatter. Offered only for tiling windows. (Until the sixth
  session a `tiled_mask` candidate found the maximum again in the backward by comparing
  the input with the values; XLA may round a recomputed input differently, see first_max.)
- `reduce_window`: XLA's `reduce_window` max. Values only: JAX's gradient of it
  (select-and-scatter) is not guaranteed to pick the first maximum, so it is never chosen
  for the gradient direction.

Two directions are timed: `forward` (values, when nothing differentiates) and `input_grad`
(values and input gradient, what a training step runs). `pool_by_direction` joins them."""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

DIRECTIONS = ("forward", "input_grad")


def lowest(dtype):
    return -jnp.inf if jnp.issubdtype(dtype, jnp.floating) else jnp.iinfo(dtype).min


def pool_out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: with ceil_mode the last window may hang over the
    right edge, but it must start inside the input or the left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool_padding(x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """(output sizes, lax.pad config): the trailing axes padded to exactly what the last
    window needs (a negative right pad crops elements no window reaches)."""
    lead = len(x_shape) - len(kernel_size)
    dims = list(zip(x_shape[lead:], kernel_size, stride, padding, dilation, strict=True))
    out = [pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in dims]
    config = [(0, 0, 0)] * lead + [(p, (o - 1) * s + d * (k - 1) + 1 - n - p, 0)
                                   for (n, k, s, p, d), o in zip(dims, out, strict=True)]
    return out, config


def windows(x, fill, kernel_size, stride, padding, dilation, ceil_mode):
    """All pooling windows as one stack: [prod(kernel_size), *leading, *out]. Entry j holds,
    for every window, the element at kernel offset j (row-major), so reducing over axis 0
    visits each window's elements in PyTorch's scan order."""
    out, config = pool_padding(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    dims = list(zip(kernel_size, stride, dilation, out, strict=True))
    x = lax.pad(x, jnp.asarray(fill, x.dtype), config)
    views = []
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        index = (Ellipsis,) + tuple(slice(j * d, j * d + (o - 1) * s + 1, s)
                                    for j, (_, s, d, o) in zip(offset, dims, strict=True))
        views.append(x[index])
    return jnp.stack(views)


def winner_rule(values, axis: int):
    """Index along `axis` of the element PyTorch's max pools pick: the last NaN where there is
    one, else the first maximum.

    NOTE: PyTorch's CPU kernels (max_pool 1-3d, their indices, adaptive_max_pool) scan a
    window in row-major order with `if (val > maxval || isnan(val))`: a NaN replaces
    whatever came before, a later NaN the earlier one, and nothing replaces a NaN (it is
    greater than nothing). jnp.argmax returns the first NaN instead, and with it the
    indices and the gradient's target differed from PyTorch's."""
    pick = jnp.argmax(values, axis=axis)
    if not jnp.issubdtype(values.dtype, jnp.floating):
        return pick
    nan = jnp.isnan(values)
    last_nan = values.shape[axis] - 1 - jnp.argmax(jnp.flip(nan, axis=axis), axis=axis)
    return jnp.where(jnp.any(nan, axis=axis), last_nan, pick)


def _first_max_slot(values, real=None):
    """[1, ...] slot of each window's winner (`winner_rule`) in a window stack. A window whose
    real elements are all -inf finds a padding slot first; PyTorch keeps the window's start,
    its first real element (`real`: which slots hold elements, None when all do)."""
    pick = winner_rule(values, 0)[None]
    if real is None:
        return pick
    real = jnp.broadcast_to(real, values.shape)
    first_real = jnp.argmax(real, axis=0)[None]
    return jnp.where(jnp.take_along_axis(real, pick, axis=0), pick, first_real)


def max_pool_window_stack(x, kernel_size, stride, padding, dilation, ceil_mode):
    """(values, flat spatial indices) from the window stack: each window's winner
    (`winner_rule` + gather, PyTorch's choice)."""
    nd = len(kernel_size)
    spatial = x.shape[x.ndim - nd:]
    args = (kernel_size, stride, padding, dilation, ceil_mode)
    values = windows(x, lowest(x.dtype), *args)
    flat = jnp.arange(int(np.prod(spatial)), dtype=jnp.int64).reshape(spatial)
    where = windows(jnp.broadcast_to(flat, x.shape), -1, *args)
    pick = _first_max_slot(values, where >= 0)
    return (jnp.take_along_axis(values, pick, axis=0)[0],
            jnp.take_along_axis(where, pick, axis=0)[0])


def window_stack(x, kernel_size, stride, padding, ceil_mode):
    """The window stack's winner per window (`winner_rule`), without the indices."""
    ones = (1,) * len(kernel_size)
    values = windows(x, lowest(x.dtype), kernel_size, stride, padding, ones, ceil_mode)
    real = None
    if any(padding) or ceil_mode:   # which slots are real elements: static, one per window
        spatial = x.shape[x.ndim - len(kernel_size):]
        real = windows(np.ones(spatial, bool), False, kernel_size, stride, padding, ones,
                       ceil_mode)
        lead = x.ndim - len(kernel_size)
        real = real.reshape(real.shape[:1] + (1,) * lead + real.shape[1:])
    pick = _first_max_slot(values, real)
    return jnp.take_along_axis(values, pick, axis=0)[0]


def reduce_window(x, kernel_size, stride, padding, ceil_mode):
    lead = x.ndim - len(kernel_size)
    _, config = pool_padding(x.shape, kernel_size, stride, padding, (1,) * len(kernel_size),
                             ceil_mode)
    # A NumPy init value: under jit a jnp constant would be a tracer, and lax only treats a
    # known -inf init as a max-pool.
    init = np.asarray(lowest(x.dtype), x.dtype)
    return lax.reduce_window(lax.pad(x, init, config), init, lax.max,
                             (1,) * lead + tuple(kernel_size), (1,) * lead + tuple(stride),
                             "VALID")


def tiles(x_shape, kernel_size, stride, padding, ceil_mode) -> bool:
    """Whether the windows tile the input: stride == kernel, no padding, and (ceil_mode) no
    window hanging over the edge. The rows and columns past the last window are cropped."""
    nd = len(kernel_size)
    if tuple(stride) != tuple(kernel_size) or any(padding):
        return False
    spatial = x_shape[len(x_shape) - nd:]
    return all(n >= k and (not ceil_mode or n % k == 0)
               for n, k in zip(spatial, kernel_size, strict=True))


def _tiles_of(x, kernel_size):
    """(x's tiling windows as [*lead, o1, k1, o2, k2, ...], len(lead), the k axes)."""
    nd = len(kernel_size)
    lead = x.shape[:x.ndim - nd]
    out = [n // k for n, k in zip(x.shape[x.ndim - nd:], kernel_size, strict=True)]
    cropped = x[(Ellipsis,) + tuple(slice(0, o * k) for o, k in zip(out, kernel_size,
                                                                     strict=True))]
    shape = lead + tuple(v for o, k in zip(out, kernel_size, strict=True) for v in (o, k))
    return cropped.reshape(shape), len(lead), _window_axes(len(lead), nd)


def _window_axes(lead: int, nd: int) -> tuple:
    return tuple(lead + 2 * i + 1 for i in range(nd))


def winner_dtype(kernel_size):
    """The narrowest integer type that holds every offset in a window of `kernel_size`, and
    the window's size (`first_max`'s start): int8 for LeNet's 2x2, wider for windows of more
    than 127 elements (a 12x12 pool)."""
    count = int(np.prod(kernel_size))
    return jnp.int8 if count <= 127 else jnp.int16 if count <= 32767 else jnp.int32


def _offsets(shape, axes, kernel_size, kind):
    """Each element's row-major offset in its window, as `kind`, broadcastable to `shape`
    (the tiled layout [*lead, o1, k1, o2, k2, ...])."""
    grid = [1] * len(shape)
    for axis, k in zip(axes, kernel_size, strict=True):
        grid[axis] = k
    flat, stride = jnp.zeros(grid, kind), 1
    for axis, k in reversed(list(zip(axes, kernel_size, strict=True))):
        flat = flat + (lax.broadcasted_iota(kind, grid, axis) * stride).astype(kind)
        stride *= k
    return flat


def _first_of(a, b):
    """The reduction step of `first_max`: of two (value, offset) candidates, the larger value,
    a NaN before any number, the later offset between NaNs and the earlier between equal
    numbers (`winner_rule`). A total order, so the reduction may combine elements in any
    order XLA likes."""
    (va, ia), (vb, ib) = a, b
    earlier = ia < ib
    if jnp.issubdtype(va.dtype, jnp.floating):
        a_nan, b_nan = va != va, vb != vb
        # NOTE: lax.select, not jnp.where: jnp.where lowers to a call of a private function,
        # and XLA-CPU crashed (segfault) compiling a double backward whose reducers called it
        wins = lax.select(a_nan | b_nan, a_nan & (~b_nan | (ia > ib)),
                          (va > vb) | ((va == vb) & earlier))
    else:
        wins = (va > vb) | ((va == vb) & earlier)
    return lax.select(wins, va, vb), lax.select(wins, ia, ib)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def first_max(tiled, axes, kernel_size):
    """(values, winner) over the window axes of `tiled` in one reduction of (value, offset)
    pairs: winner is each window's first maximum, or its last NaN (`winner_rule`), as its
    row-major offset, in `winner_dtype`.

    NOTE: one reduction reads each element once, so the winner always holds the value
    returned. Comparing the input with the max afterwards (`x == max`) does not: XLA may
    recompute the input's producer inside the comparing loop, and nothing makes that
    recomputation round as the first one did. With LLVM at level 0 and XLA-CPU's legacy
    emitters, a BatchNorm before the pool recomputed differently in 1% of the windows; those
    windows found no maximum and the gradient went astray (0.03 off after three SGD steps of
    a conv-BatchNorm-pool net). JAX's own max gradient compares the same way."""
    kind = winner_dtype(kernel_size)
    offsets = jnp.broadcast_to(_offsets(tiled.shape, axes, kernel_size, kind), tiled.shape)
    init = (np.asarray(lowest(tiled.dtype), tiled.dtype),
            np.asarray(int(np.prod(kernel_size)), kind))   # after every real offset
    return lax.reduce((tiled, offsets), init, _first_of, axes)


@first_max.defjvp
def _first_max_jvp(axes, kernel_size, primals, tangents):
    # the values move with the winner's element (JAX has no derivative of a reduction of
    # pairs); a gradient of a pool's gradient differentiates this forward
    (tiled,), (dtiled,) = primals, tangents
    values, winner = first_max(tiled, axes, kernel_size)
    picked = jnp.expand_dims(winner, axes) == _offsets(tiled.shape, axes, kernel_size,
                                                       winner.dtype)
    dvalues = jnp.where(picked, dtiled, jnp.zeros((), dtiled.dtype)).sum(axis=axes)
    return (values, winner), (dvalues, np.zeros(winner.shape, jax.dtypes.float0))


def tiled_max_with_winner(x, kernel_size):
    """(values, winner) of a tiling max pool (`first_max` over x's tiles). An eager training
    step keeps the winner for the backward (`tiled_max_grad`) instead of recomputing the
    forward there: LeNet's 64x6x24x24 pool took 136 + 432 us (values, then the VJP) and
    334 + 78 us this way."""
    tiled, _, axes = _tiles_of(x, kernel_size)
    return first_max(tiled, axes, tuple(kernel_size))


def _winner_grad(winner, cotangent, lead, kernel_size):
    """The cotangent at each window's winner and zeros elsewhere, in the tiled layout."""
    axes = _window_axes(lead, len(kernel_size))
    shape = list(cotangent.shape)
    for axis, k in zip(axes, kernel_size, strict=True):
        shape.insert(axis, k)
    flat = _offsets(shape, axes, kernel_size, winner.dtype)
    return jnp.where(jnp.expand_dims(winner, axes) == flat, jnp.expand_dims(cotangent, axes),
                     jnp.zeros((), cotangent.dtype))


def tiled_max_grad(winner, cotangent, x_shape, kernel_size):
    """The input gradient of a tiling max pool from its `winner` offsets: each window's
    cotangent at its winner, zeros elsewhere (and in the rows and columns no window
    covers)."""
    lead = len(x_shape) - len(kernel_size)
    grad = _winner_grad(winner, cotangent, lead, tuple(kernel_size))
    covered = tuple(o * k for o, k in zip(cotangent.shape[lead:], kernel_size, strict=True))
    grad = grad.reshape(tuple(x_shape[:lead]) + covered)
    pad = [(0, 0, 0)] * lead + [(0, n - c, 0) for n, c in zip(x_shape[lead:], covered,
                                                             strict=True)]
    return lax.pad(grad, jnp.zeros((), cotangent.dtype), pad)


def tiled_winner(x, kernel_size, stride, padding, ceil_mode):
    """A tiling max pool whose forward, when differentiated, also keeps each window's winning
    offset (`tiled_max_with_winner`) and whose backward puts the cotangent there
    (`tiled_max_grad`), as PyTorch keeps its indices: the backward reads one small integer
    per window."""
    kernel_size, shape = tuple(kernel_size), tuple(x.shape)

    @jax.custom_vjp
    def pool(v):
        tiled, _, axes = _tiles_of(v, kernel_size)
        return tiled.max(axis=axes)

    def pool_fwd(v):
        return tiled_max_with_winner(v, kernel_size)

    def pool_bwd(winner, cotangent):
        return (tiled_max_grad(winner, cotangent, shape, kernel_size),)

    pool.defvjp(pool_fwd, pool_bwd)
    return pool(x)


# name -> (fn, applies(x_shape, kernel, stride, padding, ceil_mode), directions offered)
CANDIDATES = {
    "reduce_window": (reduce_window, lambda *_: True, ("forward",)),
    "window_stack": (window_stack, lambda *_: True, DIRECTIONS),
    "tiled_winner": (tiled_winner, tiles, DIRECTIONS),
}


def candidates_for(x_shape, kernel_size, stride, padding, ceil_mode) -> dict:
    """{name: directions offered} of the candidates that apply to this max pool."""
    args = (tuple(x_shape), tuple(kernel_size), tuple(stride), tuple(padding), ceil_mode)
    return {name: offered for name, (_, applies, offered) in CANDIDATES.items()
            if applies(*args)}


def fixed_rule(x_shape, kernel_size, stride, padding, ceil_mode) -> dict:
    """Autotuning off: reduce_window's values; the tiled winner's gradient where the windows
    tile the input (LeNet's 2x2 pools), else the window stack's."""
    grad = ("tiled_winner" if tiles(tuple(x_shape), kernel_size, stride, padding, ceil_mode)
            else "window_stack")
    return {"forward": "reduce_window", "input_grad": grad}


def pool_by_direction(forward: str, input_grad: str, kernel_size, stride, padding,
                      ceil_mode):
    """f(x): candidate `forward`'s values when nothing differentiates; differentiated,
    candidate `input_grad`'s values and pullback (a custom VJP)."""
    args = (tuple(kernel_size), tuple(stride), tuple(padding), ceil_mode)
    values, grad = CANDIDATES[forward][0], CANDIDATES[input_grad][0]
    if forward == input_grad:
        return lambda x: values(x, *args)

    @jax.custom_vjp
    def pool(x):
        return values(x, *args)

    def pool_fwd(x):
        return jax.vjp(lambda v: grad(v, *args), x)

    def pool_bwd(pull, cotangent):
        return pull(cotangent)

    pool.defvjp(pool_fwd, pool_bwd)
    return pool
