"""`F.interpolate(..., antialias=True)`: bilinear, bicubic and Lanczos-3 resizing of a 4-D
input, the filter stretched by the scale when downsampling (PIL's method, PyTorch's
`_upsample_*2d_aa` kernels).

Each spatial dim is a matrix of weights over the input positions (output rows, input
columns), so the resize is two matmuls, width first then height (as PyTorch's separable
kernel), and its gradient is theirs: the transposed weights. The weights depend only on the
sizes, so a compiled program holds them as constants.

uint8 images take PyTorch's integer path, as `_ops/resample_uint8.py` does without
antialias: int16 weights, each pass rounded and clamped to 0..255 (bit for bit with
PyTorch's CPU kernel)."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as dt
from .._factories import tensor
from .._grad_fn_names import renamed
from .._ops._promote import torch_name
from .._ops.resample_uint8 import fixed_point, keys_cubic
from .._tensor import Tensor

_TAPS = {"bilinear": 2, "bicubic": 4, "lanczos": 6}
_NAMES = {"bilinear": "UpsampleBilinear2DAaBackward0", "bicubic": "UpsampleBicubic2DAaBackward0",
          "lanczos": "UpsampleLanczos2DAaBackward0"}


def _filter(mode: str, x: float) -> float:
    x = abs(x)
    if mode == "bilinear":
        return 1.0 - x if x < 1.0 else 0.0
    if mode == "bicubic":   # Keys' cubic with a = -0.5, as PIL (not the -0.75 of bicubic)
        return keys_cubic(x, -0.5)
    if x >= 3.0:   # Lanczos-3: sinc(x) sinc(x / 3)
        return 0.0
    if x == 0.0:
        return 1.0
    px = math.pi * x
    return 3.0 * math.sin(px) * math.sin(px / 3.0) / (px * px)


def weights(mode: str, n_in: int, n_out: int, align_corners: bool, scale) -> np.ndarray:
    """[n_out, n_in] float64: output i's weights over the input, normalized to sum 1."""
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    elif scale is not None and scale > 0:
        ratio = 1.0 / scale
    else:
        ratio = n_in / n_out
    support = _TAPS[mode] * 0.5 * (ratio if ratio >= 1.0 else 1.0)
    widest = math.ceil(support) * 2 + 1
    stretch = 1.0 / ratio if ratio >= 1.0 else 1.0
    out = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = ratio * (i + 0.5)
        first = max(int(center - support + 0.5), 0)
        count = min(max(min(int(center + support + 0.5), n_in) - first, 0), widest)
        w = np.array([_filter(mode, (j + first - center + 0.5) * stretch) for j in range(count)])
        total = w.sum()
        out[i, first:first + count] = w / total if total != 0 else w
    return out


def _uint8_pass(x: Tensor, w: np.ndarray, width: bool) -> Tensor:
    ints, bits = fixed_point(w, w.max())
    x = x.to(dt.int32)
    ints = tensor(ints.T if width else ints)
    summed = x @ ints if width else ints @ x
    return ((summed + (1 << (bits - 1))) >> bits).clamp(0, 255)


def antialiased(input: Tensor, sizes: tuple, scales: tuple, mode: str,
                align_corners: bool) -> Tensor:
    """`input` [N, C, H, W] resized to `sizes` with the `mode` filter, antialiased."""
    if input.dtype not in (dt.uint8, dt.float32, dt.float64):   # PyTorch's CPU kernels
        raise NotImplementedError(f'"compute_index_ranges_weights" not implemented for '
                                  f"'{torch_name(input.dtype)}'")
    (h, w), (oh, ow) = input.shape[2:], sizes
    rows = weights(mode, h, oh, align_corners, scales[0])
    cols = weights(mode, w, ow, align_corners, scales[1])
    if input.dtype is dt.uint8:
        out = input
        if ow != w:
            out = _uint8_pass(out, cols, width=True)
        if oh != h:
            out = _uint8_pass(out, rows, width=False)
        return out.to(dt.uint8) if out is not input else input.clone()
    kind = dt.to_np(input.dtype)
    out = input
    if ow != w:
        out = out @ tensor(cols.T.astype(kind))
    if oh != h:
        out = tensor(rows.astype(kind)) @ out
    if out is input:
        out = input.clone()
    return renamed(out, _NAMES[mode], "matmul", "clone")
