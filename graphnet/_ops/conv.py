"""Convolution, pooling, resampling and padding kernels (NCHW layouts, like PyTorch).

Pools and resampling work on the trailing `len(kernel_size)` (or `len(size)`) axes and
accept any leading axes. Output sizes and index tables are computed with NumPy from static
shapes, so every kernel stays one XLA computation."""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import conv_autotune, pool_autotune, pool_candidates
from ._operand_dtypes import check_conv
from ._table import defop
from .conv_candidates import CANDIDATES, MAX_PATCH_ELEMENTS, conv_by_direction, conv_out_size
from .conv_candidates import conv_as_matmul  # noqa: F401  (kept importable from here)
from .pool_candidates import max_pool_window_stack, windows
from .pool_candidates import pool_out_size  # noqa: F401  (kept importable from here)
from .resample_uint8 import interpolate_uint8


# NOTE: XLA's CPU convolution is far off its best when the output is spatially small: a
# 512->512 3x3 conv on 8x512x2x2 took 100 ms, the same math as shifted slices + one matmul
# 1.7 ms (and 201 vs 6 ms for its gradient). From 32x32 outputs up the native conv wins, so
# only small outputs on CPU take the matmul form; GPUs keep the native conv.
MATMUL_CONV_MAX_OUTPUT = 64   # output positions per image (8x8 in 2-D)
# The stacked slices hold kernel-size copies of the input (and a training step keeps them
# for the weight gradient), so very large batches keep the native conv's memory footprint.
MATMUL_CONV_MAX_PATCH_ELEMENTS = MAX_PATCH_ELEMENTS


HALF_TYPES = (jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16))


@defop("conv", "contraction", method=None, backward="ConvolutionBackward0",
       function=("nn.functional.conv2d", "nn.functional.conv1d", "nn.functional.conv3d"))
def conv(x, weight, bias=None, *, stride, padding, dilation, groups):
    """x [N, C_in, *spatial], weight [C_out, C_in/groups, *kernel]; padding: (lo, hi) pairs.
    Float convolutions (1-d to 3-d) take the measured-fastest candidate (conv_autotune.py)
    when autotuning is on; integer ones, and all when it is off, the fixed rule."""
    check_conv(x, weight, bias)
    if bias is not None and x.dtype in HALF_TYPES:
        # the bias added before the one rounding to half, as PyTorch's kernel: added after
        # it, a bfloat16 conv with a bias differed from torch's in 29% of elements (by up
        # to 0.25) and a cellular automaton drifted over its steps
        return conv(*(a.astype(jnp.float32) for a in (x, weight, bias)), stride=stride,
                    padding=padding, dilation=dilation, groups=groups).astype(x.dtype)
    nd = weight.ndim - 2
    assert 1 <= nd <= 3, f"conv supports 1 to 3 spatial dims, got {nd}"
    args = (stride, padding, dilation, groups)
    name = _fixed_rule(x.shape, weight.shape, *args)
    if conv_autotune.tracing_types():
        y = CANDIDATES[name].fn(x, weight, *args)
        return y if bias is None else y + bias.reshape((1, -1) + (1,) * nd)
    choice = None
    if jnp.issubdtype(x.dtype, jnp.floating) and conv_autotune.enabled() \
            and not _holds_nothing(x.shape, weight.shape, *args):
        choice = conv_autotune.choose_conv(x.shape, weight.shape, *args, x.dtype, prefer=name)
    if choice is not None:
        y = conv_by_direction(choice["forward"], choice["input_grad"], choice["weight_grad"],
                              *args)(x, weight)
    else:   # autotuning off (or its budget spent), or not a float conv
        conv_autotune.record_rule(x.shape, weight.shape, *args, x.dtype, choice=name)
        y = CANDIDATES[name].fn(x, weight, *args)
    return y if bias is None else y + bias.reshape((1, -1) + (1,) * nd)


def _holds_nothing(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    """Whether the input, the weight or the output of a convolution has no elements.

    NOTE: such a conv (a batch of 0) is never timed: there is nothing to time, and candidates
    run on empty shapes failed (shifted_matmuls read an empty result's first element), so
    with autotuning on `Conv1d(3, 4, 3)(zeros(0, 3, 8))` raised an IndexError."""
    out = conv_out_size(x_shape[2:], w_shape[2:], stride, padding, dilation)
    return 0 in tuple(x_shape) or 0 in tuple(w_shape) or min(out) < 1


def _fixed_rule(x_shape, w_shape, stride, padding, dilation, groups) -> str:
    """Autotuning off: the matmul form for spatially small outputs on CPU, else XLA's."""
    out = conv_out_size(x_shape[2:], w_shape[2:], stride, padding, dilation)
    patch_elements = x_shape[0] * x_shape[1] * int(np.prod(w_shape[2:]))
    return "patches_matmul" if _matmul_form_pays(out, patch_elements) else "xla"


def _matmul_form_pays(out, patch_elements_per_position: int = 1) -> bool:
    positions = int(np.prod(out))
    return (jax.default_backend() == "cpu" and min(out) > 0
            and positions <= MATMUL_CONV_MAX_OUTPUT
            and positions * patch_elements_per_position <= MATMUL_CONV_MAX_PATCH_ELEMENTS)


def _max_pool_residuals(attrs, arrays):
    """OpDef.eager_residuals of max_pool: a pool whose windows tile a floating input (LeNet's
    2x2 pools) keeps each window's winner for the backward (pool_candidates.py,
    `tiled_max_with_winner`); None for the others."""
    x, kernel_size = arrays[0], tuple(attrs["kernel_size"])
    if any(d != 1 for d in attrs["dilation"]) or not jnp.issubdtype(x.dtype, jnp.floating) \
            or not pool_candidates.tiles(tuple(x.shape), kernel_size, tuple(attrs["stride"]),
                                         tuple(attrs["padding"]), attrs.get("ceil_mode", False)):
        return None
    shape = tuple(x.shape)
    return (lambda x: pool_candidates.tiled_max_with_winner(x, kernel_size),
            lambda winner, cts: (pool_candidates.tiled_max_grad(winner, cts[0], shape,
                                                                kernel_size),),
            shape)


@defop("max_pool", "reduction", method=None,
       function=("nn.functional.max_pool2d", "nn.functional.max_pool1d",
                 "nn.functional.max_pool3d"), eager_residuals=_max_pool_residuals)
def max_pool(x, *, kernel_size, stride, padding, dilation, ceil_mode=False):
    """Dilated pools take the window stack; the others the measured or fixed choice of
    pool_autotune.py: the values' form, and the form differentiated in a training step."""
    if any(d != 1 for d in dilation):
        return max_pool_window_stack(x, kernel_size, stride, padding, dilation, ceil_mode)[0]
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else None
    if dtype is None or conv_autotune.tracing_types():
        # integer pools (nothing to differentiate), or types only: XLA's reduce_window
        return pool_candidates.reduce_window(x, tuple(kernel_size), tuple(stride),
                                             tuple(padding), ceil_mode)
    choice = pool_autotune.choose_max_pool(x.shape, kernel_size, stride, padding, ceil_mode,
                                           dtype)
    return pool_candidates.pool_by_direction(choice["forward"], choice["input_grad"],
                                             kernel_size, stride, padding, ceil_mode)(x)


@defop("max_pool_with_indices", "reduction", n_outputs=2, method=None,
       function=("nn.functional.max_pool2d", "nn.functional.max_pool1d",
                 "nn.functional.max_pool3d", "nn.functional.max_pool2d_with_indices",
                 "nn.functional.max_pool1d_with_indices",
                 "nn.functional.max_pool3d_with_indices"))
def max_pool_with_indices(x, *, kernel_size, stride, padding, dilation, ceil_mode=False):
    return max_pool_window_stack(x, kernel_size, stride, padding, dilation, ceil_mode)


# NOTE: PyTorch sums float16/bfloat16 windows in float32 and rounds the average once: a 3x3
# window of 40000s sums past float16's 65504, so a half-precision sum gave inf (PyTorch 40000)
HALF = (jnp.float16, jnp.bfloat16)


def _avg_divisor(n, k, s, p, out, count_include_pad):
    """Per-output-position divisor along one axis, as PyTorch's avg_pool computes it: the
    window clipped to the padded input (or to the input itself without count_include_pad)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


@defop("avg_pool", "reduction", method=None,
       function=("nn.functional.avg_pool2d", "nn.functional.avg_pool1d",
                 "nn.functional.avg_pool3d"))
def avg_pool(x, *, kernel_size, stride, padding, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    if x.dtype in HALF:   # see HALF
        return avg_pool(x.astype(jnp.float32), kernel_size=kernel_size, stride=stride,
                        padding=padding, ceil_mode=ceil_mode,
                        count_include_pad=count_include_pad,
                        divisor_override=divisor_override).astype(x.dtype)
    nd = len(kernel_size)
    ones = (1,) * nd
    total = jnp.sum(windows(x, 0, kernel_size, stride, padding, ones, ceil_mode), axis=0)
    if divisor_override:
        return total / jnp.asarray(divisor_override, x.dtype)
    divisor = np.ones((), np.int64)
    for axis, (n, k, s, p) in enumerate(zip(x.shape[x.ndim - nd:], kernel_size, stride,
                                            padding, strict=True)):
        d = _avg_divisor(n, k, s, p, total.shape[x.ndim - nd + axis], count_include_pad)
        divisor = np.multiply.outer(divisor, d)
    return total / jnp.asarray(divisor, x.dtype)


def adaptive_bins(n: int, out: int):
    """PyTorch's adaptive pooling bins: [floor(i*n/out), ceil((i+1)*n/out)) for i < out."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def _gather_bins(x, axis: int, out: int):
    """x with `axis` replaced by [out, width]: bin i's elements, padded to the widest bin by
    repeating its last element (harmless for max; masked out for averages). One gather per
    axis keeps the program small however many bins there are. Returns (bins, valid mask)."""
    bins = adaptive_bins(x.shape[axis], out)
    width = max(b - a for a, b in bins)
    table = np.array([[min(a + j, b - 1) for j in range(width)] for a, b in bins])
    valid = np.array([[a + j < b for j in range(width)] for a, b in bins])
    gathered = jnp.take(x, table.reshape(-1), axis=axis, mode="clip")
    shape = x.shape[:axis] + (out, width) + x.shape[axis + 1:]
    mask_shape = (out, width) + (1,) * (x.ndim - axis - 1)
    return gathered.reshape(shape), valid.reshape(mask_shape)


@defop("adaptive_avg_pool", "reduction", method=None,
       function=("nn.functional.adaptive_avg_pool2d", "nn.functional.adaptive_avg_pool1d",
                 "nn.functional.adaptive_avg_pool3d"))
def adaptive_avg_pool(x, *, output_size):
    # A sum over a rectangle is a sum of sums, one axis at a time; one division at the end
    # (as PyTorch: an average of averages rounded differently in float16, 1 ulp off)
    if x.dtype in HALF:   # see HALF (interpolate's mode="area" comes here too)
        return adaptive_avg_pool(x.astype(jnp.float32), output_size=output_size).astype(x.dtype)
    nd = len(output_size)
    if 0 in output_size:
        return _empty_pool(x, output_size)
    count = np.ones((), np.int64)
    for axis, out in zip(range(x.ndim - nd, x.ndim), output_size, strict=True):
        gathered, valid = _gather_bins(x, axis, out)
        x = jnp.sum(jnp.where(valid, gathered, jnp.zeros((), x.dtype)), axis=axis + 1)
        count = np.multiply.outer(count, valid.sum(axis=1).reshape(-1))
    return x / jnp.asarray(count, x.dtype)


def _empty_pool(x, output_size):
    """An adaptive pool to an output size with a 0 in it: PyTorch returns an empty tensor
    (there are no bins to gather), and x's gradient is zeros."""
    nd = len(output_size)
    return jnp.zeros(x.shape[:x.ndim - nd] + tuple(output_size), x.dtype)


def _adaptive_max_pool(x, output_size):
    """Separable argmax, last axis first: each row's winner (its last NaN, else its first
    maximum; pool_candidates.winner_rule), then the winning row's, which is the last NaN or
    the first maximum in row-major order (PyTorch's choice). Indices travel along."""
    nd = len(output_size)
    if 0 in output_size:   # PyTorch returns an empty result (see _empty_pool)
        empty = _empty_pool(x, output_size)
        return empty, jnp.zeros(empty.shape, jnp.int64)
    spatial = x.shape[x.ndim - nd:]
    index = jnp.broadcast_to(jnp.arange(int(np.prod(spatial)), dtype=jnp.int64)
                             .reshape(spatial), x.shape)
    for axis, out in reversed(list(zip(range(x.ndim - nd, x.ndim), output_size, strict=True))):
        values, _ = _gather_bins(x, axis, out)
        indices, _ = _gather_bins(index, axis, out)
        pick = jnp.expand_dims(pool_candidates.winner_rule(values, axis + 1), axis + 1)
        x = jnp.take_along_axis(values, pick, axis=axis + 1).squeeze(axis + 1)
        index = jnp.take_along_axis(indices, pick, axis=axis + 1).squeeze(axis + 1)
    return x, index


@defop("adaptive_max_pool", "reduction", method=None,
       function=("nn.functional.adaptive_max_pool2d", "nn.functional.adaptive_max_pool1d",
                 "nn.functional.adaptive_max_pool3d"))
def adaptive_max_pool(x, *, output_size):
    return _adaptive_max_pool(x, output_size)[0]


@defop("adaptive_max_pool_with_indices", "reduction", n_outputs=2, method=None,
       function=("nn.functional.adaptive_max_pool2d", "nn.functional.adaptive_max_pool1d",
                 "nn.functional.adaptive_max_pool3d",
                 "nn.functional.adaptive_max_pool2d_with_indices",
                 "nn.functional.adaptive_max_pool1d_with_indices",
                 "nn.functional.adaptive_max_pool3d_with_indices"))
def adaptive_max_pool_with_indices(x, *, output_size):
    return _adaptive_max_pool(x, output_size)


@defop("local_response_norm", "reduction",
       function="nn.functional.local_response_norm", method=None,
       backward="DivBackward0")   # PyTorch composes it, ending in input / div
def local_response_norm(x, *, size, alpha, beta, k):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta; the window is
    zero-padded by size//2 before and (size-1)//2 after each channel, as in PyTorch.

    PyTorch composes it of ops (mul, avg_pool, mul, add, pow, div), so half precision rounds
    after each: the square in x's dtype, the window average summed in float32 (avg_pool's
    rule) and rounded once, then alpha, k and beta applied in float32 and rounded per step."""
    half = x.dtype in HALF
    wide = x.astype(jnp.float32) if half else x
    square = _rounded(wide * wide, x.dtype)
    config = [(0, 0, 0), (size // 2, (size - 1) // 2, 0)] + [(0, 0, 0)] * (x.ndim - 2)
    padded = lax.pad(square, jnp.zeros((), wide.dtype), config)
    channels = x.shape[1]
    total = sum(lax.slice_in_dim(padded, j, j + channels, axis=1) for j in range(size))
    div = _rounded(total / size, x.dtype)
    for step in (lambda d: d * alpha, lambda d: d + k, lambda d: d ** beta):
        div = _rounded(step(div), x.dtype)
    return (wide / div).astype(x.dtype)


def _rounded(v, dtype):
    """float32 `v` rounded to the half dtype `dtype` (kept in float32); other `v` as they are.
    NOTE: reduce_precision, not a convert pair, which XLA may drop in a fused bf16 kernel."""
    if dtype not in HALF:
        return v
    info = jnp.finfo(dtype)
    return lax.reduce_precision(v, info.nexp, info.nmant)


def _source_index(mode, n_in, n_out, scale, align_corners, dtype):
    """Float source coordinate of every output position along one axis (PyTorch's
    area_pixel_compute_source_index, computed in the input's precision like PyTorch's CPU
    kernels). `scale` is the user's scale_factor or None."""
    dst = np.arange(n_out, dtype=dtype)
    if align_corners:
        ratio = dtype((n_in - 1) / (n_out - 1)) if n_out > 1 else dtype(0)
        return ratio * dst
    ratio = dtype(1.0 / scale) if scale else dtype(n_in) / dtype(n_out)
    if mode == "nearest":
        return ratio * dst
    if mode == "nearest-exact":
        return ratio * (dst + dtype(0.5))
    if mode == "cubic":   # cubic keeps positions left of the first pixel centre
        return ratio * (dst + dtype(0.5)) - dtype(0.5)
    return np.maximum(ratio * (dst + dtype(0.5)) - dtype(0.5), dtype(0))


def _cubic_taps(src, n_in: int, dtype):
    """PyTorch's bicubic taps along one axis: 4 clamped indices per output and Keys' weights
    (A = -0.75) of the fraction, both guarded as its guard_index_and_lambda does."""
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - i0, 0, 1).astype(dtype)
    a = dtype(-0.75)

    def near(s):
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a
    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    return [(np.clip(i0 - 1 + j, 0, n_in - 1), w) for j, w in enumerate(weights)]


@defop("interpolate", "opaque", function="nn.functional.interpolate", method=None)
def interpolate(x, *, size, scales, mode, align_corners=False):
    """Resample the trailing len(size) axes. mode: nearest, nearest-exact, linear (the
    separable form of bilinear/trilinear) or cubic (bicubic, separable the same way)."""
    if x.dtype == jnp.uint8 and mode in ("linear", "cubic"):   # PyTorch's fixed-point form
        return interpolate_uint8(x, size, scales, mode, align_corners)
    nd = len(size)
    dtype = np.float64 if x.dtype == jnp.float64 else np.float32
    for axis, out, scale in zip(range(x.ndim - nd, x.ndim), size, scales, strict=True):
        n_in = x.shape[axis]
        src = _source_index(mode, n_in, out, scale, align_corners, dtype)
        shape = [1] * x.ndim
        shape[axis] = out
        if mode == "cubic":
            x = sum(jnp.take(x, index, axis=axis) * jnp.asarray(w.reshape(shape), x.dtype)
                    for index, w in _cubic_taps(src, n_in, dtype))
            continue
        if mode in ("nearest", "nearest-exact"):
            index = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
            if mode == "nearest" and nd == 2 and n_in and out in (n_in, 2 * n_in):
                # NOTE: PyTorch's 2-D nearest kernel copies (same size) or halves the index
                # (twice the size) without the float scale: scale_factor=1.1 on 5 pixels
                # keeps all 5, where floor(i / 1.1) repeats pixel 0. Its 1-D and 3-D kernels
                # do not, so neither does this.
                index = np.arange(out) // (out // n_in)
            x = jnp.take(x, index, axis=axis, mode="clip")
            continue
        if out == n_in:
            # NOTE: PyTorch's linear kernels leave an axis of unchanged size as it is, whatever
            # the scale: scale_factor=1.2 on 3 rows keeps them, where 1/1.2 resampled them
            continue
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        w1 = np.clip(src - i0, 0, 1).astype(dtype)
        w1 = jnp.asarray(w1.reshape(shape), x.dtype)
        x = (jnp.take(x, i0, axis=axis, mode="clip") * (1 - w1)
             + jnp.take(x, i1, axis=axis, mode="clip") * w1)
    return x


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@defop("pad", "broadcast", function="nn.functional.pad", method=None)
def pad(x, *, pads, mode="constant", value=0.0):
    """pads: one (before, after) pair per axis of x. A negative pad crops: PyTorch crops
    after reflecting or replicating (the pad reads the whole input) but before wrapping."""
    if mode == "constant":
        return lax.pad(x, jnp.asarray(value, x.dtype), [(lo, hi, 0) for lo, hi in pads])
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    if mode == "circular":
        return jnp.pad(_crop(x, pads), grow, mode="wrap")
    return _crop(jnp.pad(x, grow, mode=_PAD_MODES[mode]), pads)


def _crop(x, pads):
    """x without the elements the negative entries of `pads` remove."""
    return x[tuple(slice(-min(lo, 0), n + min(hi, 0))
                   for n, (lo, hi) in zip(x.shape, pads, strict=True))]

