"""Functional bilinear, embedding_bag, the alpha and 3-D dropouts and gumbel_softmax; the
extra normalisations (`instance_norm`, `rms_norm`) come from `functional_norm_extra.py`."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as dt
from .. import _factories as fac
from .. import _math as M
from .._autograd import no_grad
from .._dispatch import dispatch
from .._tensor import Tensor
from .._ops._promote import torch_name
from . import functional_norm_extra
from .functional_conv import _channel_dropout
from .functional_norm_extra import *  # noqa: F401,F403

__all__: list[str] = [*functional_norm_extra.__all__, "bilinear", "embedding_bag",
                      "alpha_dropout", "feature_alpha_dropout", "dropout3d", "gumbel_softmax"]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o].

    >>> F.bilinear(graphnet.randn(4, 3), graphnet.randn(4, 5), graphnet.randn(2, 3, 5)).shape
    graphnet.Size([4, 2])
    """
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if weight.dim() != 3 or weight.shape[1] != input1.shape[-1] or \
            weight.shape[2] != input2.shape[-1]:
        raise RuntimeError(f"bilinear(): weight [out, {input1.shape[-1]}, {input2.shape[-1]}] "
                           f"expected for inputs of sizes {input1.shape[-1]} and "
                           f"{input2.shape[-1]}, got weight {list(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"bilinear(): bias of size {list(bias.shape)} does not match "
                           f"out_features {weight.shape[0]}")
    lead = tuple(input1.shape[:-1])
    a, b = input1.reshape(-1, input1.shape[-1]), input2.reshape(-1, input2.shape[-1])
    out = M.einsum("bi,oij,bj->bo", a, weight, b)
    out = out.reshape(*lead, weight.shape[0])
    return out if bias is None else out + bias   # AddBackward0 last, as PyTorch's


_MODES = ("sum", "mean", "max")


def _renorm_rows_(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """PyTorch's embedding_renorm_: rows that `indices` reads and whose p-norm exceeds max_norm
    are scaled in place to max_norm / (norm + 1e-7). Written without reading values on the
    host, so a compiled function renormalises too."""
    with no_grad():
        num = weight.shape[0]
        flat = indices.reshape(-1)
        used = fac.zeros(num, dtype=weight.dtype).index_add(
            0, flat, fac.ones(flat.shape[0], dtype=weight.dtype)) > 0
        p = float(norm_type)
        if p in (0.0, math.inf, -math.inf):
            # max |x| (inf), min |x| (-inf), count of nonzeros (0), as torch.norm gives; the
            # p-norm formula below would give 1, 0 and a division by zero for them.
            norms = weight.norm(p, dim=1)
        else:
            norms = weight.abs().pow(p).sum(1).pow(1.0 / p)
        scale = M.where(used & (norms > max_norm), max_norm / (norms + 1e-7),
                        fac.ones(num, dtype=weight.dtype))
        weight._assign(weight * scale.unsqueeze(1))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embedding rows, without building the [bag, len, dim]
    tensor. `input` [B, L] holds B bags of L indices; or 1-D `input` with `offsets` [B]
    giving where each bag starts (B+1 entries with include_last_offset). scale_grad_by_freq
    ('sum', 'mean') scales the weight's gradient as PyTorch's CPU kernel does.

    >>> w = graphnet.randn(10, 3)
    >>> F.embedding_bag(graphnet.tensor([1, 2, 4, 5, 4]), w, graphnet.tensor([0, 2])).shape
    graphnet.Size([2, 3])
    """
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)})"
                         f" is not None, then it must have the same shape as the input "
                         f"({list(input.shape)})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    if input.dtype.is_floating_point or input.dtype.name == "bool":
        raise RuntimeError(f"embedding_bag: expected indices of type int64 or int32, got "
                           f"{input.dtype}")
    if not weight.dtype.is_floating_point:   # an int64 weight summed as int64
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the "
                           f"following scalar types: Half, BFloat16, Float, Double; but got "
                           f"{_legacy_name(weight.dtype)} instead (while checking arguments "
                           f"for embedding_bag)")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        if input.shape[1] == 0:   # PyTorch's arange(0, numel, step=input.size(1))
            raise RuntimeError("step must be nonzero (embedding_bag: a 2-D input holds bags "
                               "of input.size(1) indices, here 0; pass a 1-D input and "
                               "offsets for empty bags)")
        offsets = fac.arange(0, input.numel(), input.shape[1], dtype=input.dtype)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        if offsets.dtype.name not in ("int64", "int32"):   # 1.9 was read as 1
            raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                               f"following scalar types: Long, Int; but got "
                               f"{_legacy_name(offsets.dtype)} instead (while checking "
                               f"arguments for embedding_bag)")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.dim()}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if sparse:
        raise NotImplementedError("embedding_bag: sparse=True is not supported by graphnet "
                                  "(JAX has no sparse gradients); leave it False for a dense "
                                  "gradient")
    if max_norm is not None:
        _renorm_rows_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if padding_idx is not None:
        num = weight.shape[0]
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} "
                               f"through {num - 1}, but got {padding_idx}")
        padding_idx %= num
    if include_last_offset and offsets.shape[0] == 0:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as "
                           f"tensor for argument #1 'per_sample_weights'; but type "
                           f"torch.{torch_name(weight.dtype)}Tensor does not equal "
                           f"torch.{torch_name(per_sample_weights.dtype)}Tensor (while checking "
                           f"arguments for embedding_bag)")
    extra = () if per_sample_weights is None else (per_sample_weights,)
    return dispatch("embedding_bag", weight, input, offsets.to(input.dtype), *extra, mode=mode,
                    padding_idx=padding_idx, include_last_offset=bool(include_last_offset),
                    scale_grad_by_freq=bool(scale_grad_by_freq))


# ---- dropouts ------------------------------------------------------------------------------
_ALPHA = 1.7580993408473766   # SELU's -scale * alpha: the value dropped units take


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool,
                   feature: bool) -> Tensor:
    """Dropped units take SELU's saturation value; then an affine map keeps the mean and
    variance of a unit-normal input (PyTorch's constants). `feature` drops whole channels."""
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        out = input * 0.0
    else:
        if feature and input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2) if feature \
            else tuple(input.shape)
        # NOTE: drawn and compared in float32 for float16/bfloat16 (as PyTorch's bernoulli_
        # compares): in bfloat16, 1 - p rounded moved the keep rate (0.1012 dropped at 0.1)
        wide = input.dtype if input.dtype.itemsize >= 4 else dt.float32
        keep = (fac.rand(*shape, dtype=wide) < 1.0 - p).to(input.dtype)
        a = (1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p))) ** 0.5
        out = input * (keep * a) + ((keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p)
    return input._assign(out) if inplace else out


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps a unit-normal input's mean and variance.
    Note `training` defaults to False here, as in PyTorch."""
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout of whole channels (dim 1) of [N, C, *]."""
    return _alpha_dropout(input, p, training, inplace, feature=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of [N, C, D, H, W] (or unbatched [C, D, H, W]) with probability p,
    scaling the rest by 1/(1-p)."""
    _check_p(p)
    if input.dim() not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is "
                      f"deprecated and will result in an error in a future release. To retain "
                      f"the behavior and silence this warning, please use dropout instead.",
                      stacklevel=2)
    return _channel_dropout(input, p, training, inplace, unbatched=input.dim() != 5)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """softmax((logits + Gumbel(0, 1) noise) / tau); with `hard`, the one-hot of the largest
    value in the forward pass and the soft sample's gradient (straight-through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    # NOTE: the noise is made in float32 (float64 for float64 logits) and then rounded, as
    # PyTorch's exponential_ draws: made in float16, 1 - U was 1 one time in 2048, Exp(1)
    # was 0 and the clamp below rounded to 0 too, so -log(E) was inf and the row nan.
    wide = logits.dtype if logits.dtype == dt.float64 else dt.float32
    uniform = fac.rand(*logits.shape, dtype=wide)
    # Exp(1) = -log(1 - U), kept above 0 (U can be 0) so the Gumbel sample -log(E) is finite
    exponential = (-(1.0 - uniform).log()).clamp(min=float(np.finfo(np.float32).tiny))
    gumbel = (-exponential.log()).to(logits.dtype)
    y_soft = ((logits + gumbel) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = fac.zeros(*logits.shape, dtype=logits.dtype).scatter(dim, index, 1.0)
    # NOTE: the soft sample's own rounding cancels first (y_soft - detach is exactly 0), so the
    # forward values are exact zeros and ones, however a compiler fuses the softmax
    return y_hard + (y_soft - y_soft.detach())


def _legacy_name(dtype) -> str:
    """PyTorch's legacy type name of `dtype` in its argument errors: torch.FloatTensor."""
    from .._dtype_methods import _TYPE_NAMES

    return f"torch.{_TYPE_NAMES.get(dtype, dtype.name)}"
