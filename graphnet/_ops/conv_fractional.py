"""Fractional max pooling (Graham, 2014): windows of a fixed size whose starts step by a
non-integer stride, placed by one uniform sample per (batch, channel, axis). The sample is an
input, so the kernel is pure and PyTorch's `_random_samples` reproduce its windows exactly."""

from __future__ import annotations

import itertools

import jax.numpy as jnp

from ._table import defop


def window_starts(sample, n_in: int, n_out: int, kernel: int):
    """PyTorch's generate_intervals: start i = int((i + u) * alpha) - int(u * alpha) with
    alpha = (n_in - kernel) / (n_out - 1), and the last window flush with the end.
    sample [N, C] -> int32 [N, C, n_out]."""
    last = jnp.full(sample.shape + (1,), n_in - kernel, jnp.int32)
    if n_out == 1:
        return last
    alpha = jnp.asarray((n_in - kernel) / (n_out - 1), sample.dtype)
    steps = jnp.arange(n_out - 1, dtype=sample.dtype)
    u = sample[..., None]
    starts = (((steps + u) * alpha).astype(jnp.int32) - (u * alpha).astype(jnp.int32))
    return jnp.concatenate([starts, last], axis=-1)


def _sample_axis(nd: int, axis: int) -> int:
    """Which sample places `axis`: PyTorch's 2-d kernel reads (W, H), its 3-d one (T, H, W)."""
    return 1 - axis if nd == 2 else axis


@defop("fractional_max_pool", "opaque", n_outputs=2, nondiff_inputs=(1,), method=None,
       function=("nn.functional.fractional_max_pool2d", "nn.functional.fractional_max_pool3d",
                 "nn.functional.fractional_max_pool2d_with_indices",
                 "nn.functional.fractional_max_pool3d_with_indices"),
       backward="FractionalMaxPool2DBackward0")
def fractional_max_pool(x, samples, *, kernel_size, output_size):
    """x [N, C, *spatial], samples [N, C, nd] in [0, 1) -> (max of each window, its flat index
    in the plane), the first maximum in row-major order as in PyTorch."""
    nd = len(kernel_size)
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    starts = [window_starts(samples[..., _sample_axis(nd, a)], spatial[a], output_size[a],
                            kernel_size[a]) for a in range(nd)]
    planes = x.reshape(n, c, -1)
    values, where = [], []
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        flat = jnp.zeros((n, c) + tuple(output_size), jnp.int32)
        for a in range(nd):
            shape = [n, c] + [1] * nd
            shape[2 + a] = output_size[a]
            flat = flat * spatial[a] + (starts[a] + offset[a]).reshape(shape)
        flat = flat.reshape(n, c, -1)
        values.append(jnp.take_along_axis(planes, flat, axis=2))
        where.append(flat)
    values, where = jnp.stack(values), jnp.stack(where)
    pick = jnp.argmax(values, axis=0)[None]
    shape = (n, c) + tuple(output_size)
    best = jnp.take_along_axis(values, pick, axis=0)[0].reshape(shape)
    index = jnp.take_along_axis(where, pick, axis=0)[0].astype(jnp.int64).reshape(shape)
    return best, index

