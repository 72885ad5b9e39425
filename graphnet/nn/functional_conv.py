"""Functional convolution, pooling, normalisation, resampling and padding (`F.conv2d`,
`F.max_pool2d`, `F.batch_norm` ...), with PyTorch's signatures. Each validates its arguments
(PyTorch's rules, our messages), resolves them to static attributes and dispatches one op."""

from __future__ import annotations

import warnings

from .. import _dispatch, _random
from .. import _dtype as dt
from .. import _factories as fac
from .._autograd import no_grad
from .._dispatch import dispatch
from .._errors import ShapeError
from .._ops.conv import pool_out_size
from .._tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "batch_norm", "layer_norm", "group_norm", "local_response_norm", "interpolate", "pad",
    "dropout1d", "dropout2d", "normalize", "one_hot",
]


def _error(fn: str, message: str) -> ShapeError:
    path = _dispatch.module_path()
    return ShapeError(f"{path + ': ' if path else ''}{fn}: {message}")


def _tuple(value, n: int, name: str) -> tuple:
    """PyTorch's _pair/_single: an int repeated n times, or a sequence of n ints."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value}")
    return value


def _check_dims(fn: str, input: Tensor, nd: int) -> None:
    if input.dim() not in (nd + 1, nd + 2):
        raise _error(fn, f"expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, got "
                         f"input of shape {list(input.shape)}")


# ---- convolution --------------------------------------------------------------------------
def _conv_padding(padding, kernel, stride, dilation, nd: int) -> tuple:
    if padding == "valid":
        return ((0, 0),) * nd
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                         f"{{'valid', 'same'}}")
    return tuple((p, p) for p in _tuple(padding, nd, "padding"))


def _conv(fn, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_dims(fn, input, nd)
    unbatched = input.dim() == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    if weight.dim() != nd + 2 or x.shape[1] != weight.shape[1] * groups:
        raise _error(fn, f"weight of shape {list(weight.shape)} with groups={groups} expects "
                         f"input [N, {weight.shape[1] * groups}, ...], got input of shape "
                         f"{list(input.shape)}")
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    pads = _conv_padding(padding, tuple(weight.shape[2:]), stride, dilation, nd)
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


# ---- pooling ------------------------------------------------------------------------------
def _pool_attrs(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode) -> dict:
    _check_dims(fn, input, nd)
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else \
        _tuple(stride, nd, "stride")
    padding, dilation = _tuple(padding, nd, "padding"), _tuple(dilation, nd, "dilation")
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        if p > ((k - 1) * d + 1) // 2:
            raise ValueError(f"{fn}: pad should be at most half of effective kernel size, but "
                             f"got padding={padding}, kernel_size={kernel}, dilation={dilation}")
    spatial = tuple(input.shape[input.dim() - nd:])
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation, strict=True))
    if any(o < 1 for o in out):
        raise _error(fn, f"input of shape {list(input.shape)} is too small for "
                         f"kernel_size={kernel}, padding={padding}, dilation={dilation}: the "
                         f"output would be {list(out)}")
    return dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                ceil_mode=bool(ceil_mode))


def _max_pool(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    attrs = _pool_attrs(fn, nd, input, kernel_size, stride, padding, dilation, ceil_mode)
    if return_indices:
        return dispatch("max_pool_with_indices", input, **attrs)
    return dispatch("max_pool", input, **attrs)


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
        raise ValueError(f"{fn}: divisor_override must not be zero")
    return dispatch("avg_pool", input, count_include_pad=bool(count_include_pad),
                    divisor_override=divisor_override, **attrs)


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
    spatial = tuple(input.shape[input.dim() - nd:])
    sizes = (output_size,) * nd if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != nd:
        raise ValueError(f"{fn}: output_size must have {nd} entries, got {output_size}")
    sizes = tuple(n if s is None else int(s) for n, s in zip(spatial, sizes, strict=True))
    if any(n < 1 for n in spatial) or any(s < 1 for s in sizes):
        raise _error(fn, f"cannot pool input of shape {list(input.shape)} to {list(sizes)}")
    return sizes


def adaptive_avg_pool1d(input, output_size):
    return dispatch("adaptive_avg_pool", input,
                    output_size=_adaptive_size("adaptive_avg_pool1d", 1, input, output_size))


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive bins; `output_size` entries may be None (keep)."""
    return dispatch("adaptive_avg_pool", input,
                    output_size=_adaptive_size("adaptive_avg_pool2d", 2, input, output_size))


def _adaptive_max(fn, nd, input, output_size, return_indices):
    size = _adaptive_size(fn, nd, input, output_size)
    op = "adaptive_max_pool_with_indices" if return_indices else "adaptive_max_pool"
    return dispatch(op, input, output_size=size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ---- normalisation ------------------------------------------------------------------------
def _affine_args(weight, bias) -> tuple:
    params = tuple(t for t in (weight, bias) if t is not None)
    return params, dict(has_weight=weight is not None, has_bias=bias is not None)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5) -> Tensor:
    """Normalise per channel (dim 1). Training uses the batch statistics and, when running
    stats are given, updates them in place: r = momentum * batch + (1 - momentum) * r, with
    the unbiased batch variance. `momentum` may also be a tensor (cumulative averaging).

    >>> mean, var = graphnet.zeros(3), graphnet.ones(3)
    >>> y = F.batch_norm(graphnet.randn(8, 3, 4, 4), mean, var, training=True)  # updates both
    """
    if input.dim() < 2:
        raise _error("batch_norm", f"expected input [N, C, ...], got {list(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise _error("batch_norm", f"{name} has {t.numel()} elements but input of shape "
                                       f"{list(input.shape)} has {channels} channels")
    params, flags = _affine_args(weight, bias)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when "
                             "training=False")
        return dispatch("batch_norm_eval", input, running_mean, running_var, *params,
                        eps=float(eps), **flags)
    if input.numel() // channels <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {list(input.shape)}")
    y, mean, var = dispatch("batch_norm_train", input, *params, eps=float(eps), **flags)
    with no_grad():
        for buffer, batch in ((running_mean, mean), (running_var, var)):
            if buffer is not None:
                buffer._assign(momentum * batch + (1 - momentum) * buffer)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    shape = _tuple(normalized_shape, 1, "normalized_shape") \
        if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.dim() - len(shape):]) != shape or input.dim() < len(shape):
        raise _error("layer_norm", f"normalized_shape={list(shape)} expects input "
                                   f"[*, {', '.join(map(str, shape))}], got {list(input.shape)}")
    params, flags = _affine_args(weight, bias)
    return dispatch("layer_norm", input, *params, normalized_ndim=len(shape), eps=float(eps),
                    **flags)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5) -> Tensor:
    if input.dim() < 2 or input.shape[1] % num_groups:
        raise _error("group_norm", f"expected input [N, C, *] with C divisible by "
                                   f"num_groups={num_groups}, got {list(input.shape)}")
    params, flags = _affine_args(weight, bias)
    return dispatch("group_norm", input, *params, num_groups=int(num_groups), eps=float(eps),
                    **flags)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0) -> Tensor:
    if input.dim() < 3:
        raise _error("local_response_norm", f"expected 3D or higher dimensional input, got "
                                            f"{list(input.shape)}")
    return dispatch("local_response_norm", input, size=int(size), alpha=float(alpha),
                    beta=float(beta), k=float(k))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None) -> Tensor:
    """input / max(||input||_p along dim, eps)."""
    if out is not None:
        raise NotImplementedError("normalize(out=...) is not supported; use the result")
    return dispatch("normalize", input, p=float(p), dim=int(dim), eps=float(eps))


# ---- resampling, padding, dropout, one_hot ------------------------------------------------
_MODES = {"nearest": "nearest", "nearest-exact": "nearest-exact", "linear": "linear",
          "bilinear": "linear", "trilinear": "linear", "area": "area"}
_MODE_DIMS = {"linear": 3, "bilinear": 4, "trilinear": 5}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False) -> Tensor:
    """Resize the spatial dims: nearest, nearest-exact, (bi/tri)linear or area.

    >>> F.interpolate(graphnet.randn(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape
    graphnet.Size([1, 3, 16, 16])
    """
    if mode not in _MODES or antialias:
        raise NotImplementedError(f"interpolate: mode={mode!r}, antialias={antialias} is not "
                                  f"supported; use one of {sorted(_MODES)} without antialias")
    if _MODE_DIMS.get(mode, input.dim()) != input.dim() or input.dim() < 3:
        raise _error("interpolate", f"mode={mode!r} needs a "
                                    f"{_MODE_DIMS.get(mode, '3D-5')}D input, got "
                                    f"{list(input.shape)}")
    if align_corners is not None and _MODES[mode] != "linear":
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    nd = input.dim() - 2
    spatial = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    if size is not None:
        sizes, scales = _tuple(size, nd, "size"), (None,) * nd
    else:
        scales = tuple(float(s) for s in (scale_factor if isinstance(scale_factor, (list, tuple))
                                          else (scale_factor,) * nd))
        sizes = tuple(int(n * s) for n, s in zip(spatial, scales, strict=True))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * nd
    if mode == "area":
        return dispatch("adaptive_avg_pool", input, output_size=sizes)
    return dispatch("interpolate", input, size=sizes, scales=scales, mode=_MODES[mode],
                    align_corners=bool(align_corners))


def pad(input, pad, mode="constant", value=None) -> Tensor:
    """PyTorch's F.pad: `pad` lists (before, after) pairs starting from the LAST dim.

    >>> F.pad(graphnet.ones(1, 2, 3), (1, 1), mode="reflect").shape
    graphnet.Size([1, 2, 5])
    """
    if len(pad) % 2 or len(pad) // 2 > input.dim():
        raise ValueError(f"pad: padding length must be even and at most 2 * input.dim(), got "
                         f"{len(pad)} for input of shape {list(input.shape)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode={mode!r} is not supported")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)][::-1]
    pairs = [(0, 0)] * (input.dim() - len(pairs)) + pairs
    if mode != "constant":
        for n, (lo, hi) in zip(input.shape, pairs, strict=True):
            limit = n - 1 if mode == "reflect" else (n if mode == "circular" else float("inf"))
            if min(lo, hi) < 0 or max(lo, hi) > limit or (n == 0 and lo + hi):
                raise _error("pad", f"mode={mode!r} padding {tuple(pad)} does not fit input "
                                    f"of shape {list(input.shape)}")
    return dispatch("pad", input, pads=tuple(pairs), mode=mode,
                    value=0.0 if value is None else value)


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
        raise _error("dropout1d", f"expected input [N, C, L] or [C, L], got "
                                  f"{list(input.shape)}")
    return _channel_dropout(input, p, training, inplace, unbatched=input.dim() == 2)


def dropout2d(input, p=0.5, training=True, inplace=False) -> Tensor:
    """Zero whole channels of [N, C, H, W] with probability p, scaling the rest by 1/(1-p).
    Like PyTorch, a 3-D input is read as [N, C, L] (channel-wise 1-D dropout)."""
    if input.dim() == 3:
        warnings.warn("dropout2d: a 3D input is treated as [N, C, L] (1-D channel dropout), "
                      "as PyTorch does; use dropout1d to say so", stacklevel=2)
    return _channel_dropout(input, p, training, inplace)


def one_hot(tensor, num_classes=-1) -> Tensor:
    """int64 [*, num_classes] with a 1 at each entry's class. num_classes=-1 reads the largest
    class from the data, which a compiled (static) function cannot do: pass it explicitly."""
    if tensor.dtype != dt.int64:
        raise TypeError(f"one_hot is only applicable to index tensors of dtype int64, got "
                        f"{tensor.dtype}")
    if num_classes == -1:
        num_classes = int(tensor.max()) + 1
    if not fac.tracing() and tensor.numel() and (int(tensor.min()) < 0
                                                 or int(tensor.max()) >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got "
                         f"[{int(tensor.min())}, {int(tensor.max())}]")
    classes = fac.arange(num_classes, dtype=dt.int64)
    return (tensor.unsqueeze(-1) == classes).long()
