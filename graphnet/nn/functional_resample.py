"""Functional rearranging and resampling of feature maps: pixel (un)shuffle, channel shuffle,
fold/unfold (col2im/im2col), the deprecated upsample spellings of interpolate, and the
spatial transformer pair affine_grid/grid_sample, with PyTorch's signatures and errors.

The shuffles are reshapes and permutes of existing ops (so both modes and gradients come
for free); fold, unfold, affine_grid and grid_sample each dispatch one op."""

from __future__ import annotations

import warnings

from .. import _dtype as dt
from .._dispatch import dispatch
from .._errors import int_argument
from .._grad_fn_names import renamed
from .._tensor import Tensor
from .functional_conv import _tuple
from .functional_norm import interpolate

__all__ = [
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "unfold",
    "fold", "upsample", "upsample_nearest", "upsample_bilinear", "affine_grid", "grid_sample",
]


# ---- shuffles ----------------------------------------------------------------------------
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """[*, C*r*r, H, W] -> [*, C, H*r, W*r]: channel blocks become r x r pixel blocks.

    >>> F.pixel_shuffle(graphnet.randn(1, 12, 4, 4), 2).shape
    graphnet.Size([1, 3, 8, 8])
    """
    r = int_argument(upscale_factor, "pixel_shuffle", "upscale_factor", 2)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.dim()} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    # one node in PyTorch, not graphnet's last reshape
    return renamed(x.reshape(*lead, c // (r * r), h * r, w * r), "PixelShuffleBackward0",
                   "reshape")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """[*, C, H*r, W*r] -> [*, C*r*r, H, W], the inverse of pixel_shuffle."""
    r = int_argument(downscale_factor, "pixel_unshuffle", "downscale_factor", 2)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, "
                           f"but got input with {input.dim()} dimension(s)")
    *lead, c, h, w = input.shape
    for name, n, axis in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({axis})={n} is not "
                               f"divisible by {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return renamed(x.reshape(*lead, c * r * r, h // r, w // r), "PixelUnshuffleBackward0",
                   "reshape")


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """[N, C, *] with channels read as [groups, C/groups] and written transposed (ShuffleNet)."""
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    g = int_argument(groups, "channel_shuffle", "groups", 2)
    n, c, *rest = input.shape
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{g}")
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    from .._autograd import node_named

    return node_named(input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest),
                      "ChannelShuffleBackward0")


native_channel_shuffle = channel_shuffle


# ---- im2col / col2im ---------------------------------------------------------------------
def _blocks(fn, spatial, kernel, dilation, padding, stride) -> tuple:
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, k, d, p, s in zip(spatial, kernel, dilation, padding, stride, strict=True))
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given {fn} with spatial size {tuple(spatial)}, kernel_size="
                           f"{kernel}, dilation={dilation}, padding={padding}, calculated shape "
                           f"of the array of sliding blocks as {out}, but its components must "
                           f"be at least one.")
    return out


def _window_args(kernel_size, dilation, padding, stride) -> tuple:
    return tuple(_tuple(v, 2, name) for v, name in ((kernel_size, "kernel_size"),
                                                    (dilation, "dilation"),
                                                    (padding, "padding"), (stride, "stride")))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col: sliding blocks of [N, C, H, W] as columns, [N, C*kH*kW, L].

    >>> F.unfold(graphnet.randn(1, 3, 4, 4), kernel_size=2).shape
    graphnet.Size([1, 12, 9])
    """
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride)
    out = _blocks("input", tuple(input.shape[-2:]), kernel, dilation, padding, stride)
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    y = dispatch("unfold_patches", x, kernel_size=kernel, dilation=dilation, padding=padding,
                 stride=stride, out=out)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im, the adjoint of unfold: columns [N, C*kH*kW, L] summed back into [N, C, H, W]
    (overlapping blocks add up)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    size = _tuple(output_size, 2, "output_size")
    kernel, dilation, padding, stride = _window_args(kernel_size, dilation, padding, stride)
    rows, columns = input.shape[-2:]
    if rows % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={rows} and "
                           f"kernel_size={kernel}.")
    out = _blocks("output_size", size, kernel, dilation, padding, stride)
    if columns != out[0] * out[1]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation="
                           f"{dilation}, padding={padding}, stride={stride}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {out[0]} * {out[1]} = {out[0] * out[1]}, but got "
                           f"input.size(2)={columns}.")
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    y = dispatch("fold_patches", x, output_size=size, kernel_size=kernel, dilation=dilation,
                 padding=padding, stride=stride, out=out)
    return y.squeeze(0) if unbatched else y


# ---- upsample: interpolate's old names ---------------------------------------------------
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated spelling of interpolate (warns, as PyTorch does)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear resize with align_corners=True (the old default this name keeps)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- spatial transformer -----------------------------------------------------------------
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """Sampling grid [N, H, W, 2] (or [N, D, H, W, 3]) of the affine maps theta [N, 2, 3]
    (or [N, 3, 4]) applied to the output's normalised coordinates; feed it to grid_sample.

    >>> theta = graphnet.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])   # identity
    >>> F.affine_grid(theta, [1, 3, 8, 8], align_corners=False).shape
    graphnet.Size([1, 8, 8, 2])
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) in (4, 5):
        nd = len(size) - 2
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (nd, nd + 1):
            raise ValueError(f"Expected a batch of {nd}D affine matrices of shape "
                             f"Nx{nd}x{nd + 1} for size {size}. Got {theta.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: theta holds {theta.shape[0]} matrices but size asks "
                           f"for a batch of {size[0]}")
    return dispatch("affine_grid", theta, size=tuple(size), align_corners=bool(align_corners))


def grid_sample(input: Tensor, grid: Tensor, mode="bilinear", padding_mode="zeros",
                align_corners=None) -> Tensor:
    """Sample input [N, C, H, W] (or [N, C, D, H, W]) at grid [N, H', W', 2] of normalised
    (x, y) positions in [-1, 1]: bilinear, nearest or bicubic (4-D only); outside the input,
    zeros, the border value or the reflection.

    >>> x = graphnet.randn(1, 3, 8, 8)
    >>> grid = F.affine_grid(graphnet.eye(2, 3)[None], [1, 3, 8, 8], align_corners=False)
    >>> F.grid_sample(x, grid, align_corners=False).shape
    graphnet.Size([1, 3, 8, 8])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    nd = input.dim() - 2
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0] or grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension "
                           f"and the same batch size as input, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
    empty = [d for d in range(2, input.dim()) if input.shape[d] == 0]
    if empty:
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                           f"dimensions, but input has sizes {list(input.shape)} with dimension "
                           f"{empty[0]} being empty")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, "
                           f"but input has {input.dtype} and grid has {grid.dtype}")
    if input.dtype not in (dt.float16, dt.bfloat16, dt.float32, dt.float64):
        raise RuntimeError(f"grid_sampler(): expected a floating point input, got "
                           f"{input.dtype}")
    return dispatch("grid_sample", input, grid, mode=mode, padding_mode=padding_mode,
                    align_corners=bool(align_corners))
