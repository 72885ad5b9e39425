"""Kernels that read or write feature maps at computed positions: max unpooling (scatter to
the indices a max pool returned) and grid sampling (PyTorch's grid_sampler, 2-d and 3-d)."""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import first_where
from ._range_values import linspace_values
from ._table import ValueCheck, defop


def _unpool_find(x, indices, *, output_size):
    size = int(np.prod(output_size))
    bad, value = first_where((indices < 0) | (indices >= size), indices)
    return bad, (value,)


def _unpool_error(facts, *, output_size):
    sizes = "x".join(str(s) for s in output_size)
    return RuntimeError(f"Found an invalid max index: {facts[0]} (output volumes are of size "
                        f"{sizes})")


@defop("max_unpool", "opaque", nondiff_inputs=(1,), method=None,
       function=("nn.functional.max_unpool2d", "nn.functional.max_unpool1d",
                 "nn.functional.max_unpool3d"),
       check=ValueCheck(_unpool_find, _unpool_error), backward="MaxUnpool2DBackward0")
def max_unpool(x, indices, *, output_size):
    """x, indices [*lead, *in_spatial] -> [*lead, *output_size]: zeros, with each value of x
    written at its flat index within its plane (the inverse of max_pool's indices)."""
    nd = len(output_size)
    lead = x.shape[:x.ndim - nd]
    planes = int(np.prod(lead))
    values = x.reshape(planes, -1)
    where = indices.reshape(planes, -1)
    out = _scatter_planes(values, where, int(np.prod(output_size)))
    return out.reshape(lead + tuple(output_size))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _scatter_planes(values, where, size: int):
    """values, where [planes, n] -> [planes, size]: each value written at its index."""
    out = jnp.zeros((values.shape[0], size), values.dtype)
    return out.at[jnp.arange(values.shape[0])[:, None], where].set(values)


def _scatter_planes_fwd(values, where, size):
    return _scatter_planes(values, where, size), where


def _scatter_planes_bwd(size, where, grad):
    # PyTorch's gradient: every input reads the output gradient at its index, so two inputs
    # sent to one place (overlapping pool windows that chose the same maximum) both get it;
    # the transpose of the scatter gave it to the one written last only
    return jnp.take_along_axis(grad, where, axis=1), None


_scatter_planes.defvjp(_scatter_planes_fwd, _scatter_planes_bwd)


# ---- grid sampling -----------------------------------------------------------------------
def _clip(coord, size: int):
    """Clamp into [0, size-1] with PyTorch's gradient: 0 on and beyond either edge."""
    high = size - 1
    return jnp.where(coord <= 0, jnp.zeros_like(coord),
                     jnp.where(coord >= high, jnp.full_like(coord, high), coord))


def _reflect(coord, twice_low: int, twice_high: int):
    """Fold coord into [twice_low/2, twice_high/2] by reflecting at the edges."""
    if twice_low == twice_high:
        return jnp.zeros_like(coord)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    shifted = coord - low
    mirrored = jnp.where(shifted < 0, -shifted, shifted)
    extra = jnp.fmod(mirrored, span)
    flips = jnp.floor(mirrored / span)
    return jnp.where(jnp.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _source_coord(coord, size: int, padding_mode: str, align_corners: bool):
    """PyTorch's grid_sampler_compute_source_index: [-1, 1] -> pixel coordinates."""
    if align_corners:
        coord = (coord + 1) / 2 * (size - 1)
    else:
        coord = ((coord + 1) * size - 1) / 2
    if padding_mode == "zeros":
        return coord
    return _source_coord_padded(coord, size, padding_mode, align_corners)


def _gather(x, spatial, index_per_axis):
    """x [N, C, *spatial] read at integer positions [N, *out] per axis (clamped inside; the
    caller masks positions outside) -> [N, C, *out]."""
    flat = jnp.zeros_like(index_per_axis[0])
    for i, n in zip(index_per_axis, spatial, strict=True):
        flat = flat * n + jnp.clip(i, 0, n - 1)
    n_batch, channels = x.shape[:2]
    planes = x.reshape(n_batch, channels, int(np.prod(spatial)))
    picked = jax.vmap(lambda plane, where: plane[:, where.reshape(-1)])(planes, flat)
    return picked.reshape((n_batch, channels) + flat.shape[1:])


def _inside(index_per_axis, spatial, coords=()):
    """Where the integer positions fall inside `spatial` and every coordinate they came
    from is finite: a NaN coordinate's position cast to an integer is 0 in XLA, which read
    (nearest) or took gradient into (bilinear) a real pixel; PyTorch's lands outside."""
    ok = True
    for i, n in zip(index_per_axis, spatial, strict=True):
        ok = ok & (i >= 0) & (i < n)
    for c in coords:
        ok = ok & jnp.isfinite(c)
    return ok


@defop("grid_sample", "opaque", method=None, function="nn.functional.grid_sample",
       backward="GridSampler2DBackward0")
def grid_sample(x, grid, *, mode, padding_mode, align_corners):
    """x [N, C, *spatial] (2-d or 3-d), grid [N, *out, nd] holding (x, y[, z]) in [-1, 1],
    i.e. the LAST spatial axis first. mode: bilinear (trilinear in 3-d) or nearest."""
    spatial = x.shape[2:]
    nd = len(spatial)
    if x.size == 0 or grid.size == 0:   # an empty batch or no channels: nothing to read
        return jnp.zeros(x.shape[:2] + grid.shape[1:-1], x.dtype) + 0 * grid.sum() \
            + 0 * x.sum()
    # grid[..., 0] indexes the last axis (width): reverse to the axis order of x.
    coords = [_source_coord(grid[..., nd - 1 - a], n, padding_mode, align_corners)
              for a, n in enumerate(spatial)]
    if mode == "bicubic":
        return _bicubic(x, grid, padding_mode, align_corners)
    if mode == "nearest":
        index = [jnp.round(c).astype(jnp.int32) for c in coords]   # half to even, as nearbyint
        mask = _inside(index, spatial, coords)[:, None]
        return jnp.where(mask, _gather(x, spatial, index), jnp.zeros((), x.dtype))
    low = [jnp.floor(c) for c in coords]
    out = jnp.zeros((), x.dtype)
    for corner in itertools.product((0, 1), repeat=nd):
        index, weight = [], 1
        for c, lo, bit in zip(coords, low, corner, strict=True):
            index.append(lo.astype(jnp.int32) + bit)
            weight = weight * ((c - lo) if bit else (lo + 1 - c))
        mask = _inside(index, spatial, coords)[:, None]
        value = jnp.where(mask, _gather(x, spatial, index), jnp.zeros((), x.dtype))
        out = out + value * weight[:, None]
    return out


def _cubic_weights(t, a=-0.75):
    """Keys' cubic convolution weights (A = -0.75) of the 4 taps around fraction t."""
    def near(s):   # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):    # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic(x, grid, padding_mode: str, align_corners: bool):
    """PyTorch's 2-d bicubic grid sampling: the 4x4 taps around the unnormalised (unpadded)
    position; each tap's integer position is then mapped by the padding mode, and taps
    outside the input read 0."""
    spatial = x.shape[2:]
    coords = []
    for a, n in enumerate(spatial):
        c = grid[..., 1 - a]
        coords.append((c + 1) / 2 * (n - 1) if align_corners else ((c + 1) * n - 1) / 2)
    low = [jnp.floor(c) for c in coords]
    weights = [_cubic_weights(c - lo) for c, lo in zip(coords, low, strict=True)]
    out = jnp.zeros((), x.dtype)
    for i, j in itertools.product(range(4), repeat=2):
        index = []
        for lo, k, n in ((low[0], i, spatial[0]), (low[1], j, spatial[1])):
            tap = lo + (k - 1)
            if padding_mode != "zeros":
                tap = _source_coord_padded(tap, n, padding_mode, align_corners)
            index.append(jnp.trunc(tap).astype(jnp.int32))
        mask = _inside(index, spatial, coords)[:, None]
        value = jnp.where(mask, _gather(x, spatial, index), jnp.zeros((), x.dtype))
        out = out + value * (weights[0][i] * weights[1][j])[:, None]
    return out


def _source_coord_padded(coord, size: int, padding_mode: str, align_corners: bool):
    """The padding part of _source_coord for an already unnormalised coordinate."""
    if padding_mode == "border":
        return _clip(coord, size)
    coord = (_reflect(coord, 0, 2 * (size - 1)) if align_corners
             else _reflect(coord, -1, 2 * size - 1))
    return _clip(coord, size)


def _steps(n: int, align_corners: bool, dtype):
    """PyTorch's linspace_from_neg_one, to the last bit: its `linspace(-1, 1, n)` in `dtype`,
    pulled in to pixel centres without align_corners as `range * (n - 1) / n` (a multiply
    then a divide, each rounded); a single point sits at 0.

    NOTE: the bits matter. At the identity transform a sample then lies beside a pixel
    centre, not on it, and bilinear sampling's gradient with respect to the grid takes the
    side it lies on: a grid off by one rounding step gave a spatial transformer's theta
    gradient hundreds apart from PyTorch's at the usual identity start."""
    if n <= 1:
        return np.zeros(1, dtype)
    steps = linspace_values(-1, 1, n, dtype)
    return steps if align_corners else steps * dtype(n - 1) / dtype(n)


@defop("affine_grid", "contraction", method=None, function="nn.functional.affine_grid",
       backward="AffineGridGeneratorBackward0")
def affine_grid(theta, *, size, align_corners):
    """theta [N, nd, nd+1] -> grid [N, *size[2:], nd] of (x, y[, z]): the base grid of
    normalised output coordinates (x along the last axis), times theta transposed."""
    dtype = np.float64 if theta.dtype == jnp.float64 else np.float32
    spatial = tuple(size[2:])
    axes = [_steps(n, align_corners, dtype) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")          # one array per axis, D/H/W order
    base = np.stack(list(mesh)[::-1] + [np.ones(spatial, dtype)], axis=-1)   # (x, y[, z], 1)
    base = jnp.asarray(base.reshape(-1, len(spatial) + 1), theta.dtype)
    grid = jnp.einsum("pk,njk->npj", base, theta)
    return grid.reshape((theta.shape[0],) + spatial + (len(spatial),))
