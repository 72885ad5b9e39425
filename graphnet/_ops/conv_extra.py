"""Transposed convolution and im2col/col2im (fold/unfold) kernels, NC* layouts like PyTorch.

The 3-d pools reuse conv.py's kernels (they pool any trailing axes); unpooling and grid
sampling live in conv_sample.py, fractional max pooling in conv_fractional.py, both
registered from here."""

from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
from jax import lax

from . import conv_fractional  # noqa: F401  (registration: fractional_max_pool)
from . import conv_sample  # noqa: F401  (registration: max_unpool, grid_sample, affine_grid)
from ._operand_dtypes import check_conv
from ._table import defop


def transposed_weight(weight, groups: int):
    """PyTorch's transposed-conv weight [C_in, C_out/groups, *k] as the weight of the ordinary
    conv that computes it: [C_out, C_in/groups, *k], each group's in/out swapped and every
    kernel flipped (a transposed conv is the gradient of a conv with respect to its input)."""
    c_in, per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    w = weight.reshape((groups, c_in // groups, per_group) + kernel)
    w = jnp.swapaxes(w, 1, 2).reshape((groups * per_group, c_in // groups) + kernel)
    return jnp.flip(w, axis=tuple(range(2, w.ndim)))


@defop("conv_transpose", "contraction", method=None, backward="ConvolutionBackward0",
       function=("nn.functional.conv_transpose2d", "nn.functional.conv_transpose1d",
                 "nn.functional.conv_transpose3d"))
def conv_transpose(x, weight, bias=None, *, stride, padding, output_padding, dilation, groups):
    """x [N, C_in, *spatial], weight [C_in, C_out/groups, *k]. The input is dilated by the
    stride and padded by dilation*(k-1) - padding on each side (+ output_padding after);
    a negative pad crops, which lax allows."""
    check_conv(x, weight, bias, transposed=True)
    # bfloat16: the bias added before the one rounding, as torch's CPU kernel (exact there);
    # torch's float16 transposed conv rounds the convolution first, then adds the bias
    if bias is not None and x.dtype == jnp.bfloat16:
        return conv_transpose(*(a.astype(jnp.float32) for a in (x, weight, bias)),
                              stride=stride, padding=padding, output_padding=output_padding,
                              dilation=dilation, groups=groups).astype(x.dtype)
    nd = weight.ndim - 2
    axes = "DHW"[-nd:]
    w = transposed_weight(weight, groups)
    pads = [(d * (k - 1) - p, d * (k - 1) - p + op)
            for k, p, op, d in zip(weight.shape[2:], padding, output_padding, dilation,
                                   strict=True)]
    dims = lax.conv_dimension_numbers(x.shape, w.shape, ("NC" + axes, "OI" + axes, "NC" + axes))
    y = lax.conv_general_dilated(x, w, (1,) * nd, pads, lhs_dilation=stride,
                                 rhs_dilation=dilation, dimension_numbers=dims,
                                 feature_group_count=groups)
    return y if bias is None else y + bias.reshape((1, -1) + (1,) * nd)


def _offsets(kernel_size):
    return list(itertools.product(*(range(k) for k in kernel_size)))


def _window_slices(offset, dilation, stride, out):
    return tuple(slice(j * d, j * d + (o - 1) * s + 1, s)
                 for j, d, s, o in zip(offset, dilation, stride, out, strict=True))


@defop("unfold_patches", "opaque", method=None, function="nn.functional.unfold",
       backward="Im2ColBackward0")
def unfold_patches(x, *, kernel_size, dilation, padding, stride, out):
    """im2col: x [N, C, *spatial] -> [N, C * prod(kernel_size), prod(out)], rows ordered
    (channel, kernel offset) and columns the output positions, both row-major."""
    n, c = x.shape[:2]
    x = jnp.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    views = [x[(Ellipsis,) + _window_slices(offset, dilation, stride, out)]
             for offset in _offsets(kernel_size)]
    patches = jnp.stack(views, axis=2)   # [N, C, K, *out]
    return patches.reshape(n, c * patches.shape[2], math.prod(out))   # N may be 0


@defop("fold_patches", "opaque", method=None, function="nn.functional.fold",
       backward="Col2ImBackward0")
def fold_patches(x, *, output_size, kernel_size, dilation, padding, stride, out):
    """col2im, unfold's adjoint: x [N, C * prod(kernel_size), prod(out)] -> [N, C,
    *output_size], every patch entry added back where unfold read it (overlaps sum)."""
    n = x.shape[0]
    offsets = _offsets(kernel_size)
    c = x.shape[1] // len(offsets)
    x = x.reshape((n, c, len(offsets)) + tuple(out))
    padded = tuple(s + 2 * p for s, p in zip(output_size, padding, strict=True))
    y = jnp.zeros((n, c) + padded, x.dtype)
    for j, offset in enumerate(offsets):
        y = y.at[(Ellipsis,) + _window_slices(offset, dilation, stride, out)].add(x[:, :, j])
    crop = tuple(slice(p, p + s) for s, p in zip(output_size, padding, strict=True))
    return y[(Ellipsis,) + crop]
