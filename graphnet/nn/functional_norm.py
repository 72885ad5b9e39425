"""Functional normalisation (`F.batch_norm`, `F.layer_norm`, `F.group_norm`, `F.normalize`
...) and the shape-changing helpers `F.interpolate`, `F.pad` and `F.one_hot`, with PyTorch's
signatures. Like `functional_conv.py` (whose `_tuple` this module uses), each validates its
arguments, resolves them to static attributes and dispatches one op."""

from __future__ import annotations

import math

from .. import _dtype as dt
from .. import _factories as fac
from .. import _grad_fn_names
from .._grad_fn_names_nn import interpolation
from .._arith_checks import check_fits
from .._autograd import is_grad_enabled, no_grad
from .._dtype_methods import can_cast
from .._ops._promote import torch_name
from .._dispatch import dispatch
from .._errors import DtypeError, TraceError
from .._errors import UnsupportedShapeError, shape_error
from .._tensor import Tensor
from ._antialias import antialiased
from ._pad_rules import check_nonconstant_pad
from .functional_conv import _tuple

__all__ = [
    "batch_norm", "layer_norm", "group_norm", "local_response_norm", "normalize", "interpolate",
    "pad", "one_hot",
]


# ---- normalisation -----------------------------------------------------------------------
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
    if momentum is None:
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not "
                        "NoneType")
    if training:
        if (running_mean is None) != (running_var is None):
            raise ValueError("running_mean and running_var must either both be None or "
                             "neither be None")
        if input.dim() < 2:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got 1)")
        if input.shape[0] * math.prod(input.shape[2:]) == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got "
                             f"input size {list(input.shape)}")
    else:
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
    channels = input.shape[1] if input.dim() > 1 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise shape_error(f"batch_norm: {name} should contain {channels} elements not "
                              f"{t.numel()} (input of shape {list(input.shape)})")
    params, flags = _affine_args(weight, bias)
    if not training:
        return dispatch("batch_norm_eval", input, running_mean, running_var, *params,
                        eps=float(eps), **flags)
    if input.numel() == 0:
        # NOTE: PyTorch returns the empty result and leaves the running statistics as they
        # are (the mean of no values would be NaN); the affine parameters get zero gradients
        return dispatch("batch_norm_eval", input, fac.zeros(channels, dtype=input.dtype),
                        fac.ones(channels, dtype=input.dtype), *params, eps=float(eps),
                        **flags)
    y, mean, var = dispatch("batch_norm_train", input, *params, eps=float(eps), **flags)
    with no_grad():
        for buffer, batch in ((running_mean, mean), (running_var, var)):
            if buffer is not None:
                buffer._assign(momentum * batch + (1 - momentum) * buffer)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    if isinstance(normalized_shape, int):   # nn.LayerNorm takes an int, F.layer_norm does not
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple "
                        "of ints, not int")
    shape = tuple(normalized_shape)
    if tuple(input.shape[input.dim() - len(shape):]) != shape or input.dim() < len(shape):
        raise shape_error(f"layer_norm: normalized_shape={list(shape)} expects input "
                          f"[*, {', '.join(map(str, shape))}], got {list(input.shape)}")
    params, flags = _affine_args(weight, bias)
    return dispatch("layer_norm", input, *params, normalized_ndim=len(shape), eps=float(eps),
                    **flags)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5) -> Tensor:
    if input.dim() < 2 or input.shape[1] % num_groups:
        raise shape_error(f"group_norm: expected input [N, C, *] with C divisible by "
                          f"num_groups={num_groups}, got {list(input.shape)}")
    grouped = [input.shape[0] * input.shape[1] // num_groups, num_groups, *input.shape[2:]]
    if grouped[0] * math.prod(grouped[2:]) == 1:   # PyTorch's check: one value per group
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {grouped}")
    params, flags = _affine_args(weight, bias)
    return dispatch("group_norm", input, *params, num_groups=int(num_groups), eps=float(eps),
                    **flags)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0) -> Tensor:
    if input.dim() < 3:
        raise shape_error(f"local_response_norm: expected 3D or higher dimensional input, got "
                          f"{list(input.shape)}")
    return dispatch("local_response_norm", input, size=int(size), alpha=float(alpha),
                    beta=float(beta), k=float(k))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None) -> Tensor:
    """input / max(||input||_p along dim, eps). With `out`, the result is written into it
    (resized to the result's shape, as PyTorch does) and `out` returned; like PyTorch's
    out= functions it records no gradient, so it refuses inputs that require one.

    >>> F.normalize(graphnet.tensor([[3., 4.]]))
    tensor([[0.6000, 0.8000]])
    """
    if out is None:
        return dispatch("normalize", input, p=float(p), dim=int(dim), eps=float(eps))
    if is_grad_enabled() and (input.requires_grad or out.requires_grad):
        raise RuntimeError("div(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    with no_grad():
        result = dispatch("normalize", input, p=float(p), dim=int(dim), eps=float(eps))
        if not can_cast(result.dtype, out.dtype):
            raise RuntimeError(f"result type {torch_name(result.dtype)} can't be cast to the "
                               f"desired output type {torch_name(out.dtype)}")
        if tuple(out.shape) != tuple(result.shape):
            out.resize_(*result.shape)
        out.copy_(result)
    return out


# ---- resampling, padding, one_hot --------------------------------------------------------
_MODES = {"nearest": "nearest", "nearest-exact": "nearest-exact", "linear": "linear",
          "bilinear": "linear", "trilinear": "linear", "area": "area", "bicubic": "cubic",
          "lanczos": "lanczos"}
_MODE_DIMS = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4, "lanczos": 4}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False) -> Tensor:
    """Resize the spatial dims: nearest, nearest-exact, (bi/tri)linear, bicubic or area;
    with `antialias=True` (4-D input), bilinear, bicubic or Lanczos-3 filters stretched over
    the input when downsampling (nn/_antialias.py).

    >>> F.interpolate(graphnet.randn(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape
    graphnet.Size([1, 3, 16, 16])
    """
    if antialias and (mode not in ("bilinear", "bicubic", "lanczos") or input.dim() != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")   # PyTorch's words
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode={mode!r} is not supported; use one of "
                                  f"{sorted(_MODES)}")
    if _MODE_DIMS.get(mode, input.dim()) != input.dim() or input.dim() < 3:
        error = shape_error(f"interpolate: mode={mode!r} needs a "
                            f"{_MODE_DIMS.get(mode, '3D-5')}D input, got {list(input.shape)}")
        raise UnsupportedShapeError(*error.args)   # PyTorch: NotImplementedError
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if mode == "lanczos" and align_corners:   # PyTorch's words
        raise ValueError("Lanczos mode does not support align_corners=True")
    if mode == "lanczos" and not antialias:
        raise ValueError("Lanczos mode requires antialias=True")
    nd = input.dim() - 2
    spatial = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)) and len(size) != nd:   # PyTorch's words (before,
            # a 1-tuple was repeated: `size=(2,)` on a 4-D input gave 2x2)
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and output size of {size}. Please provide input "
                             f"tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             f"(o1, o2, ...,oK) format.")
        sizes, scales = _tuple(size, nd, "size"), (None,) * nd
    else:
        scales = tuple(float(s) for s in (scale_factor if isinstance(scale_factor, (list, tuple))
                                          else (scale_factor,) * nd))
        if len(scales) != nd:   # PyTorch's words (before, zip()'s own)
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and scale_factor of shape {scale_factor}. Please "
                             f"provide input tensor in (N, C, d1, d2, ...,dK) format and "
                             f"scale_factor in (s1, s2, ...,sK) format.")
        sizes = tuple(int(n * s) for n, s in zip(spatial, scales, strict=True))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * nd
    if mode == "area":
        if any(n < 0 for n in sizes):   # PyTorch's adaptive pool refuses these
            pool = f"adaptive_avg_pool{max(nd, 2)}d"
            shown = ", ".join(str(n) for n in ((1,) * (nd == 1) + sizes))
            if nd == 3:   # NOTE: PyTorch's 3-d message has no space before the last size
                shown = shown[::-1].replace(" ,", ",", 1)[::-1]
            raise RuntimeError(f"{pool}: elements of output_size must be greater than or equal "
                               f"to 0 but received {{{shown}}}")
        if 0 in sizes:   # PyTorch's area mode gives an empty result; its other modes raise
            return input.new_zeros(tuple(input.shape[:2]) + sizes)
        return interpolation(dispatch("adaptive_avg_pool", input, output_size=sizes), mode, nd)
    if any(n <= 0 for n in sizes + spatial):   # a negative size, too (size=-2)
        dims = "DHW"[3 - nd:]
        inputs = ", ".join(f"{d}: {n}" for d, n in zip(dims, spatial, strict=True))
        outputs = ", ".join(f"{d}: {n}" for d, n in zip(dims, sizes, strict=True))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({inputs}){' and' if nd == 1 else ''} output ({outputs})")
    if antialias:
        return antialiased(input, sizes, scales, mode, bool(align_corners))
    return interpolation(dispatch("interpolate", input, size=sizes, scales=scales,
                                  mode=_MODES[mode], align_corners=bool(align_corners)), mode, nd)


def pad(input, pad, mode="constant", value=None) -> Tensor:
    """PyTorch's F.pad: `pad` lists (before, after) pairs starting from the LAST dim.

    >>> F.pad(graphnet.ones(1, 2, 3), (1, 1), mode="reflect").shape
    graphnet.Size([1, 2, 5])
    """
    if len(pad) % 2:     # PyTorch's RuntimeErrors (a ValueError slipped past `except`)
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {input.dim()}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)][::-1]
    pairs = [(0, 0)] * (input.dim() - len(pairs)) + pairs
    if mode != "constant":   # PyTorch's ranks, reach and errors: nn/_pad_rules.py
        check_nonconstant_pad(tuple(input.shape), [int(p) for p in pad], mode, value)
    elif any(n + min(lo, 0) + min(hi, 0) < 0 for n, (lo, hi) in zip(input.shape, pairs)):
        # PyTorch crops the negative sides first (narrow): a crop past the other side
        # raises. NOTE: lax.pad let it run into that side's padding (zeros, no error).
        raise RuntimeError("narrow(): length must be non-negative.")
    elif value is not None:   # PyTorch's refusal (XLA wrapped `pad(uint8, value=300)` to 44)
        check_fits(value, input.dtype.np, negative_wraps=False)
    out = dispatch("pad", input, pads=tuple(pairs), mode=mode,
                   value=0.0 if value is None else value)
    return _grad_fn_names.padding(out, mode, len(pad) // 2)


def one_hot(tensor, num_classes=-1) -> Tensor:
    """int64 [*, num_classes] with a 1 at each entry's class. num_classes=-1 reads the largest
    class from the data, which a compiled (static) function cannot do: pass it explicitly."""
    if tensor.dtype != dt.int64:
        raise DtypeError(f"one_hot is only applicable to index tensors of dtype int64, got "
                        f"{tensor.dtype}")
    if num_classes == -1:
        if not tensor.numel():
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        try:
            num_classes = int(tensor.max()) + 1
        except TraceError as error:   # the largest class of traced data is not known
            raise TraceError(f"one_hot: num_classes=-1 reads the largest class from the "
                             f"data, which a compiled function does not have; pass "
                             f"num_classes= (the number of classes)\n{error}") from None
    # A bad class raises PyTorch's RuntimeError, eagerly and compiled (the op's check).
    return dispatch("one_hot", tensor, num_classes=int(num_classes))
