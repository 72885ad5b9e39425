"""Functional transposed convolutions and the pools beyond functional_conv.py: 3-d pools, the
`*_with_indices` spellings, power-average (LP) pools and max unpooling, with PyTorch's
signatures. Resampling and rearranging (pixel shuffle, fold/unfold, upsample, grid_sample)
live in functional_resample.py, fractional max pooling in functional_fractional.py; both are
re-exported here."""

from __future__ import annotations

from .._dispatch import dispatch
from .._errors import shape_error
from .._grad_fn_names_nn import adaptive_pool
from .._tensor import Tensor
from .functional_conv import (
    _adaptive_max, _adaptive_size, _avg_pool, _check_dims, _max_pool, _tuple, check_conv_args,
    check_groups_and_bias,
)
from .functional_fractional import *  # noqa: F401,F403
from .functional_fractional import __all__ as _fractional_names
from .functional_resample import *  # noqa: F401,F403
from .functional_resample import __all__ as _resample_names

__all__ = [
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", *_resample_names, *_fractional_names,
]


# ---- transposed convolution --------------------------------------------------------------
def _conv_transpose(fn, nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    _check_dims(fn, input, nd)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    unbatched = input.dim() == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    check_groups_and_bias(weight, bias, groups, nd, transposed=True)
    if weight.dim() != nd + 2 or x.shape[1] != weight.shape[0]:
        raise shape_error(f"{fn}: weight of shape {list(weight.shape)} with groups={groups} "
                          f"expects input [N, {weight.shape[0]}, ...], got input of shape "
                          f"{list(input.shape)}")
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding={padding!r} is not supported for transposed "
                         f"convolutions; give the padding as ints")
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    check_conv_args(nd, tuple(weight.shape[2:]), dilation, transposed=True)
    padding = _tuple(padding, nd, "padding")
    output_padding = _tuple(output_padding, nd, "output_padding")
    for op, s, d in zip(output_padding, stride, dilation, strict=True):
        if op >= s and op >= d:
            raise RuntimeError(f"{fn}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={output_padding}, "
                               f"stride={stride}, dilation={dilation}")
    kernel = tuple(weight.shape[2:])
    out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
           zip(x.shape[2:], stride, padding, dilation, kernel, output_padding, strict=True)]
    if any(o < 1 for o in out):
        raise RuntimeError(f"{fn}: given input of shape {list(input.shape)}, the output size "
                           f"{out} is too small")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = dispatch("conv_transpose", *args, stride=stride, padding=padding,
                 output_padding=output_padding, dilation=dilation, groups=int(groups))
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """1-D transposed convolution of [N, C_in, L] with weight [C_in, C_out/groups, k]."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """2-D transposed convolution ("deconvolution"), the gradient of conv2d with respect to
    its input: [N, C_in, H, W] with weight [C_in, C_out/groups, kH, kW].

    >>> F.conv_transpose2d(graphnet.randn(1, 8, 4, 4), graphnet.randn(8, 3, 2, 2), stride=2).shape
    graphnet.Size([1, 3, 8, 8])
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# ---- 3-d pools and the *_with_indices spellings -------------------------------------------
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """(values, indices) of max_pool2d, whatever return_indices says (as in PyTorch)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def adaptive_avg_pool3d(input, output_size):
    return adaptive_pool(dispatch("adaptive_avg_pool", input, output_size=_adaptive_size(
        "adaptive_avg_pool3d", 3, input, output_size)), "avg", 3)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, True)


# ---- power-average pools -----------------------------------------------------------------
def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    """PyTorch's formula: (sum over the window of x^p)^(1/p), the sum taken as the window's
    average times its size; a negative sum (odd p) clamps to 0. p=+-inf is a max pool."""
    pools = {1: ("max_pool1d", "avg_pool1d"), 2: ("max_pool2d", "avg_pool2d"),
             3: ("max_pool3d", "avg_pool3d")}[nd]
    max_name = pools[0]
    if norm_type == float("inf"):
        return _max_pool(max_name, nd, input.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
    if norm_type == -float("inf"):
        return -_max_pool(max_name, nd, -input.abs(), kernel_size, stride, 0, 1, ceil_mode,
                          False)
    out = _avg_pool(pools[1], nd, input.pow(norm_type), kernel_size, stride, 0, ceil_mode,
                    True, None)
    size = 1
    for k in _tuple(kernel_size, nd, "kernel_size"):
        size *= k
    return (out.sign() * out.abs().relu()).mul(size).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pool: (sum of x^p over each window)^(1/p); p=1 is sum pooling, p=2 the
    window's Euclidean norm."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# ---- max unpooling -----------------------------------------------------------------------
def unpool_output_size(input, nd, kernel, stride, padding, output_size) -> tuple:
    """PyTorch's _unpool_output_size: (in-1)*stride + kernel - 2*padding, or the requested
    size when it lies strictly within one stride of that."""
    spatial = tuple(input.shape[input.dim() - nd:])
    default = [(n - 1) * s + k - 2 * p
               for n, k, s, p in zip(spatial, kernel, stride, padding, strict=True)]
    if output_size is None:
        return tuple(default)
    output_size = list(output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for d in range(nd):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f'between {low} and {high})')
    return tuple(int(s) for s in output_size)


def _max_unpool(fn, nd, input, indices, kernel_size, stride, padding, output_size):
    _check_dims(fn, input, nd)
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None else _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    if indices.dtype.name != "int64":
        from .._ops._promote import torch_name

        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{torch_name(indices.dtype)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{fn}: expected shape of indices to be same as that of the "
                           f"input tensor ({list(input.shape)}) but got indices tensor with "
                           f"shape: {list(indices.shape)}")
    size = unpool_output_size(input, nd, kernel, stride, padding, output_size)
    if fn == "max_unpool1d":   # PyTorch reports 1-d sizes as Lx1 (it runs the 2-d kernel)
        return dispatch("max_unpool", input.unsqueeze(-1), indices.unsqueeze(-1),
                        output_size=size + (1,)).squeeze(-1)
    return dispatch("max_unpool", input, indices, output_size=size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: zeros, with each value put back where `indices` (from
    max_pool2d(..., return_indices=True)) says its maximum came from."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)
