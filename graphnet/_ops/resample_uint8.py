"""uint8 images resampled as PyTorch's CPU kernel does for bilinear and bicubic modes.

PyTorch does not interpolate uint8 in floating point: it resamples one axis at a time, the
last (width) first, each pass a fixed-point dot product with int16 weights that rounds and
clamps to 0..255 before the next pass reads it (the scheme Pillow uses). Weights cast to
uint8 (0 or 1) gave wrong images; float weights rounded once at the end differ from PyTorch
by one level on many pixels. So this module computes the same int16 weights on the host
(NumPy, static shapes) and the same integer sums in the kernel."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

_TAPS = {"linear": 2, "cubic": 4}
_CUBIC_A = -0.75   # Keys' constant of PyTorch's bicubic without antialias


def _filter(mode: str, t: float) -> float:
    t = abs(t)
    if mode == "linear":
        return 1.0 - t if t < 1.0 else 0.0
    return keys_cubic(t, _CUBIC_A)


def keys_cubic(t: float, a: float) -> float:
    """Keys' cubic convolution kernel at |t| with constant `a`."""
    t = abs(t)
    if t < 1.0:
        return ((a + 2) * t - (a + 3)) * t * t + 1
    if t < 2.0:
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return 0.0


def _source(i: int, scale: float, align_corners: bool, cubic: bool) -> float:
    """PyTorch's area_pixel_compute_source_index, in double precision."""
    if align_corners:
        return scale * i
    src = scale * (i + 0.5) - 0.5
    return src if cubic or src >= 0 else 0.0


def axis_weights(mode: str, n_in: int, n_out: int, scale, align_corners: bool):
    """(first index [n_out], int16-valued weights [n_out, taps], precision bits) of one axis:
    PyTorch's float weights with the taps that fall outside the input folded onto the edge
    pixels, scaled by 2**precision and rounded half away from zero."""
    taps = _TAPS[mode]
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        ratio = 1.0 / scale if scale else n_in / n_out
    support = taps // 2
    first = np.zeros(n_out, np.int64)
    weights = np.zeros((n_out, taps))
    largest = 0.0
    for i in range(n_out):
        src = _source(i, ratio, align_corners, mode == "cubic")
        index = min(math.floor(src), n_in - 1)
        frac = min(max(src - index, 0.0), 1.0)
        lowest = index - support + 1
        first[i] = max(lowest, 0)
        size = min(max(min(index + support + 1, n_in) - first[i], 0), taps)
        slot = 0
        for j in range(taps):   # a tap before the first pixel adds to slot 0, past the last
            if lowest + j <= 0:  # to the last slot
                slot = 0
            elif lowest + j >= n_in - 1:
                slot = size - 1
            weights[i, slot] += _filter(mode, j + 1 - support - frac)
            largest = max(largest, weights[i, slot])
            slot += 1
    return (first, *fixed_point(weights, largest))


def fixed_point(weights: np.ndarray, largest: float) -> tuple[np.ndarray, int]:
    """(weights as int16-valued integers, precision bits): scaled by 2**precision, the most
    bits for which twice `largest` still fits in 15 bits, rounded half away from zero."""
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = weights * (1 << precision)
    return np.trunc(scaled + np.where(scaled < 0, -0.5, 0.5)).astype(np.int32), precision


def interpolate_uint8(x, size, scales, mode: str, align_corners: bool):
    """x (uint8, [..., H, W]) resampled to `size`, the width first, each pass rounded."""
    nd = len(size)
    for axis in reversed(range(x.ndim - nd, x.ndim)):
        n_in, n_out = x.shape[axis], size[axis - (x.ndim - nd)]
        if n_in == n_out:   # PyTorch skips an axis whose size does not change
            continue
        first, weights, precision = axis_weights(mode, n_in, n_out,
                                                 scales[axis - (x.ndim - nd)], align_corners)
        shape = [1] * x.ndim
        shape[axis] = n_out
        acc = jnp.full((), 1 << (precision - 1), jnp.int32)
        for j in range(weights.shape[1]):
            taken = jnp.take(x, np.minimum(first + j, n_in - 1), axis=axis).astype(jnp.int32)
            acc = acc + taken * jnp.asarray(weights[:, j].reshape(shape))
        x = jnp.clip(jnp.right_shift(acc, precision), 0, 255).astype(jnp.uint8)
    return x
