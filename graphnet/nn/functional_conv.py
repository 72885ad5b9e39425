"""Functional convolution, pooling and channel dropout (`F.conv2d`, `F.max_pool2d`,
`F.dropout2d` ...): the layers over [N, C, *spatial] feature maps, with PyTorch's signatures.
Each validates its arguments (PyTorch's rules, our messages), resolves them to static attributes
and dispatches one op. The argument helper `_tuple` is shared with `functional_norm.py`;
`nn/_conv.py` builds its modules on the private helpers here."""

from __future__ import annotations

import warnings

from .. import _grad_fn_names, _random
from .._grad_fn_names_nn import adaptive_pool
from .._dispatch import dispatch
from .._errors import shape_error
from .._ops.conv import pool_out_size
from .._tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "dropout1d", "dropout2d",
]


def _int(v, name: str) -> int:
    """An int argument; a float is PyTorch's TypeError (int() truncated `padding=(1.5, 1)`)."""
    if isinstance(v, float) or "float" in str(getattr(v, "dtype", "")):   # np/tensor floats
        raise TypeError(f"{name} must be an int or a tuple of ints, got {v!r}")
    return int(v)


def _tuple(value, n: int, name: str) -> tuple:
    """PyTorch's _pair/_single: an int repeated n times, or a sequence of n ints."""
    if not hasattr(value, "__iter__") or getattr(value, "shape", None) == ():   # t.sum()
        return (_int(value, name),) * n
    value = tuple(_int(v, name) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise shape_error(f"{name} must be an int or a tuple of {n} ints, got {value}")
    return value


def check_groups_and_bias(weight, bias, groups: int, nd: int, transposed: bool) -> None:
    """PyTorch's checks of a convolution's weight against `groups`, and of its bias against the
    output channels (before them, the weight was reshaped or the bias added with a kernel's
    error)."""
    if weight.dim() != nd + 2:
        return
    if weight.shape[0] % groups:
        raise shape_error(f"Given groups={groups}, expected weight to be divisible by {groups} "
                          f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                          f"instead")
    out = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out):
        given = "transposed=1, " if transposed else ""
        raise shape_error(f"Given {given}weight of size {list(weight.shape)}, expected bias to "
                          f"be 1-dimensional with {out} elements, but got bias of size "
                          f"{list(bias.shape)} instead")


def _check_dims(fn: str, input: Tensor, nd: int) -> None:
    if input.dim() not in (nd + 1, nd + 2):
        raise shape_error(f"{fn}: expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, "
                          f"got input of shape {list(input.shape)}")


# ---- convolution -------------------------------------------------------------------------
def _conv_padding(padding, kernel, stride, dilation, nd: int) -> tuple:
    if padding == "valid":
        return ((0, 0),) * nd
    if padding == "same":
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):     # the functional form's words (the module's: _conv.py)
        raise RuntimeError(f"Invalid padding string: {padding!r}")
    pads = _tuple(padding, nd, "padding")
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")
    return tuple((p, p) for p in pads)


def check_conv_args(nd: int, kernel, dilation, transposed: bool = False) -> None:
    """PyTorch's checks of a convolution's dilation and kernel size, in its words; a 1-d
    convolution shows as the 2-d one torch computes (NOTE: a dilation of 0 used to run, as a
    kernel of span 1, where torch raises)."""
    shown = (1,) * (nd == 1) + tuple(dilation)
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if 0 in dilation:
        names = ("depth", "height", "width")[-len(shown):]
        got = (", ".join(f"dilation_{n}: {d}" for n, d in zip(names, shown, strict=True))
               if transposed else list(shown))
        raise RuntimeError(f"dilation should be greater than zero, but got {got}")
    if 0 in kernel:
        if nd == 3:
            raise RuntimeError("kernel size should be greater than zero, but got: "
                               f"{' x '.join(map(str, kernel))} (TxHxW)")
        kh, kw = (1,) * (nd == 1) + tuple(kernel)
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{kh} kernel_width: {kw}")


def _conv(fn, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_dims(fn, input, nd)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    unbatched = input.dim() == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    if weight.dim() == nd + 2 and weight.shape[0] < groups:   # e.g. 0 output channels
        raise shape_error(f"{fn}: Given groups={groups}, expected weight to be at least "
                          f"{groups} at dimension 0, but got weight of size "
                          f"{list(weight.shape)} instead")
    check_groups_and_bias(weight, bias, groups, nd, transposed=False)
    if weight.dim() != nd + 2 or x.shape[1] != weight.shape[1] * groups:
        raise shape_error(f"{fn}: weight of shape {list(weight.shape)} with groups={groups} "
                          f"expects input [N, {weight.shape[1] * groups}, ...], got input of "
                          f"shape {list(input.shape)}")
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    check_conv_args(nd, tuple(weight.shape[2:]), dilation)
    pads = _conv_padding(padding, tuple(weight.shape[2:]), stride, dilation, nd)
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads, strict=True)]
    span = [d * (k - 1) + 1 for d, k in zip(dilation, weight.shape[2:], strict=True)]
    if any(p < k for p, k in zip(padded, span, strict=True)):   # XLA would return nothing
        raise shape_error(f"{fn}: Calculated padded input size per channel: "
                          f"({' x '.join(map(str, padded))}). Kernel size: "
                          f"({' x '.join(map(str, span))}). Kernel size can't be greater than "
                          f"actual input size")
    if x.shape[0] and x.shape[1] and 0 in x.shape[2:]:
        # NOTE: PyTorch's words; it shows a 1-d input as the 2-d one it convolves ([N, C, 1, L])
        shown = list(x.shape[:2]) + [1] * (nd == 1) + list(x.shape[2:])
        raise shape_error(f"{fn}: Only zero batch or zero channel inputs are supported, but "
                          f"got input shape: {shown}")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = dispatch("conv", *args, stride=stride, padding=pads, dilation=dilation,
                 groups=int(groups))
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution of input [N, C_in, L] with weight [C_out, C_in/groups, k]."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution of input [N, C_in, H, W] (or [C_in, H, W]) with weight
    [C_out, C_in/groups, kH, kW]; padding is an int, a pair, 'valid' or 'same'.

    >>> F.conv2d(graphnet.randn(8, 3, 32, 32), graphnet.randn(16, 3, 3, 3), padding="same").shape
    graphnet.Size([8, 16, 32, 32])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# ---- pooling -----------------------------------------------------------------------------
def _pool_attrs(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode) -> dict:
    _check_dims(fn, input, nd)
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else \
        _tuple(stride, nd, "stride")
    if any(s == 0 for s in stride):     # PyTorch's words (it divided by zero here)
        raise RuntimeError("stride should not be zero")
    padding, dilation = _tuple(padding, nd, "padding"), _tuple(dilation, nd, "dilation")
    _positive_pool_args(stride, padding, dilation)
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        if p > ((k - 1) * d + 1) // 2:
            raise shape_error(f"{fn}: pad should be at most half of effective kernel size, "
                              f"but got padding={padding}, kernel_size={kernel}, "
                              f"dilation={dilation}")
    # PyTorch's next checks, in its order: only the batch axis may be empty, and the padding
    # is at most half the kernel itself too (stricter than the above when dilation > 1)
    batched = input.dim() == nd + 2
    if 0 in tuple(input.shape)[1 if batched else 0:]:
        raise shape_error(f"{fn}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                          f"optional 0 dim batch size for input, but got: {list(input.shape)}")
    if any(p > k // 2 for k, p in zip(kernel, padding, strict=True)):
        raise shape_error(f"{fn}: pad should be smaller than or equal to half of kernel size, "
                          f"but got padding={padding}, kernel_size={kernel}")
    spatial = tuple(input.shape[input.dim() - nd:])
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True))
    if any(o < 1 for o in out):
        raise shape_error(f"{fn}: input of shape {list(input.shape)} is too small for "
                          f"kernel_size={kernel}, padding={padding}, dilation={dilation}: the "
                          f"output would be {list(out)}")
    return dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                ceil_mode=bool(ceil_mode))


def _positive_pool_args(stride, padding, dilation) -> None:
    """PyTorch's errors for a negative stride or padding and a dilation below 1 (a
    dilation of 0 pooled one-pixel windows, a negative padding cropped)."""
    def named(prefix, values):
        return " ".join(f"{prefix}{axis}: {v}" for axis, v in zip("THW"[-len(values):], values))
    if any(s < 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got {named('d', stride)}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)}")
    if any(d < 1 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{named('dilation', dilation)}")


def _max_pool(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    attrs = _pool_attrs(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    out = dispatch("max_pool_with_indices" if return_indices else "max_pool", input, **attrs)
    return _grad_fn_names.pool(out, "max", nd)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each window (stride defaults to kernel_size); with return_indices, also the
    flat index of each maximum within its input plane, as in PyTorch.

    >>> F.max_pool2d(graphnet.randn(8, 16, 32, 32), 2).shape
    graphnet.Size([8, 16, 16, 16])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def _avg_pool(fn, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    attrs = _pool_attrs(fn, nd, input, kernel_size, stride, padding, 1, ceil_mode)
    del attrs["dilation"]
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")   # PyTorch's
    out = dispatch("avg_pool", input, count_include_pad=bool(count_include_pad),
                   divisor_override=divisor_override, **attrs)
    return _grad_fn_names.pool(out, "avg", nd)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_size(fn, nd, input, output_size) -> tuple:
    _check_dims(fn, input, nd)
    if nd == 1:     # PyTorch's 1-d pools take no None ("keep this size") entry
        if output_size is None:
            raise TypeError(f"{fn}(): argument 'output_size' (position 2) must be tuple of "
                            f"ints, not NoneType")
        if not isinstance(output_size, int) and None in tuple(output_size):
            raise TypeError(f"{fn}(): argument 'output_size' (position 2) must be tuple of "
                            f"ints, but found element of type NoneType at pos 0")
    spatial = tuple(input.shape[input.dim() - nd:])
    sizes = (output_size,) * nd if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != nd:
        raise shape_error(f"{fn}: output_size must be {nd} (an int or {nd} entries), got "
                          f"{output_size}")
    sizes = tuple(n if s is None else int(s) for n, s in zip(spatial, sizes, strict=True))
    if any(s < 0 for s in sizes):
        raise shape_error(f"{fn}: elements of output_size must be greater than or equal to 0 "
                          f"but received {list(sizes)}")
    if any(n < 1 for n in spatial):   # an output size of 0 is allowed: an empty result
        raise shape_error(f"{fn}: cannot pool input of shape {list(input.shape)} to "
                          f"{list(sizes)}")
    return sizes


def adaptive_avg_pool1d(input, output_size):
    return adaptive_pool(dispatch("adaptive_avg_pool", input, output_size=_adaptive_size(
        "adaptive_avg_pool1d", 1, input, output_size)), "avg", 1)


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive bins; `output_size` entries may be None (keep)."""
    return adaptive_pool(dispatch("adaptive_avg_pool", input, output_size=_adaptive_size(
        "adaptive_avg_pool2d", 2, input, output_size)), "avg", 2)


def _adaptive_max(fn, nd, input, output_size, return_indices):
    # unlike the average, PyTorch's adaptive max refuses any empty axis but the first: a
    # batched input's channels may not be empty, an unbatched input's may
    _check_dims(fn, input, nd)
    empty = [i for i in range(1, input.dim()) if input.shape[i] == 0]
    if empty:
        raise shape_error(f"{fn}(): Expected input to have non-zero size for non-batch "
                          f"dimensions, but input has sizes {list(input.shape)} with dimension "
                          f"{empty[0]} being empty")
    size = _adaptive_size(fn, nd, input, output_size)
    op = "adaptive_max_pool_with_indices" if return_indices else "adaptive_max_pool"
    return adaptive_pool(dispatch(op, input, output_size=size), "max", nd)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---- channel dropout ---------------------------------------------------------------------
def _channel_dropout(input, p, training, inplace, unbatched=False) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    x = input.unsqueeze(0) if unbatched else input
    out = x * 0.0 if p == 1.0 else dispatch("channel_dropout", x, _random.key(), p=float(p))
    out = out.squeeze(0) if unbatched else out
    return input._assign(out) if inplace else out


def dropout1d(input, p=0.5, training=True, inplace=False) -> Tensor:
    """Zero whole channels of [N, C, L] (or unbatched [C, L]) with probability p."""
    if input.dim() not in (2, 3):
        raise shape_error(f"dropout1d: expected input [N, C, L] or [C, L], got "
                          f"{list(input.shape)}")
    return _channel_dropout(input, p, training, inplace, unbatched=input.dim() == 2)


def dropout2d(input, p=0.5, training=True, inplace=False) -> Tensor:
    """Zero whole channels of [N, C, H, W] with probability p, scaling the rest by 1/(1-p).
    Like PyTorch, a 3-D input is read as [N, C, L] (channel-wise 1-D dropout)."""
    if input.dim() == 3:
        warnings.warn("dropout2d: a 3D input is treated as [N, C, L] (1-D channel dropout), "
                      "as PyTorch does; use dropout1d to say so", stacklevel=2)
    return _channel_dropout(input, p, training, inplace)
