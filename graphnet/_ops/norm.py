"""Normalisation kernels (batch, layer, group, Lp), and channel dropout.

Affine parameters are optional inputs after x; `has_weight`/`has_bias` say which are
present, since PyTorch allows either one alone (`BatchNorm(..., bias=False)`)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from ._operand_dtypes import check_norm
from ._dim_rules import scalar_as_one_element
from ._table import defop
from .distance import vector_norm


def _affine(y, params, has_weight, has_bias, shape):
    params = list(params)
    if has_weight:
        y = y * params.pop(0).reshape(shape)
    if has_bias:
        y = y + params.pop(0).reshape(shape)
    return y


def _normalisation(kernel_name: str):
    """PyTorch's dtype rules for a normalisation kernel (`check_norm`, with the kernel's name
    for its refusal of integer input). A float16/bfloat16 input is normalised in float32 and
    the result returned in its own dtype, as PyTorch's mixed-precision CPU kernels do
    (float32 affine parameters beside a bfloat16 input gave float32 output); batch
    statistics stay float32."""
    def wrap(kernel):
        def wrapped(x, *args, **attrs):
            check_norm(x, args, kernel_name)
            if x.dtype not in (jnp.float16, jnp.bfloat16):
                return kernel(x, *args, **attrs)
            out = kernel(x.astype(jnp.float32), *(a.astype(jnp.float32) for a in args),
                         **attrs)
            if isinstance(out, tuple):
                return (out[0].astype(x.dtype),) + tuple(out[1:])
            return out.astype(x.dtype)

        wrapped.__name__, wrapped.__doc__ = kernel.__name__, kernel.__doc__
        return wrapped

    return wrap


def _channel_shape(x):
    return (1, -1) + (1,) * (x.ndim - 2)


@defop("batch_norm_train", "reduction", n_outputs=3, backward="NativeBatchNormBackward0",
       function="nn.functional.batch_norm", method=None)
@_normalisation("batch_norm")
def batch_norm_train(x, *params, eps, has_weight=False, has_bias=False):
    """Normalise with the batch statistics of each channel (dim 1). Returns (y, batch mean,
    unbiased batch variance); the last two feed the running statistics and carry no grad."""
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.shape[0] * math.prod(x.shape[2:])
    mean = jnp.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = jnp.mean(centred * centred, axis=axes, keepdims=True)
    y = _affine(centred * lax.rsqrt(var + eps), params, has_weight, has_bias, _channel_shape(x))
    unbiased = var.reshape(-1) * (count / max(count - 1, 1))
    return y, lax.stop_gradient(mean.reshape(-1)), lax.stop_gradient(unbiased)


@defop("batch_norm_eval", "broadcast", nondiff_inputs=(1, 2), function="nn.functional.batch_norm",
       method=None, backward="NativeBatchNormBackward0")
@_normalisation("batch_norm")
def batch_norm_eval(x, running_mean, running_var, *params, eps, has_weight=False,
                    has_bias=False):
    shape = _channel_shape(x)
    y = (x - running_mean.reshape(shape)) * lax.rsqrt(running_var.reshape(shape) + eps)
    return _affine(y, params, has_weight, has_bias, shape)


def _mean(x, axes):
    """The mean, corrected by the mean of what is left (`m + mean(x - m)`): a float32 mean is
    a product with the rounded 1/n, off by an ulp, which the normalisation scales by
    1/sqrt(eps): a constant row gave 2e-3 where PyTorch's layer and group norms give 0."""
    first = jnp.mean(x, axis=axes, keepdims=True)
    return first + jnp.mean(x - first, axis=axes, keepdims=True)


@defop("layer_norm", "reduction", function="nn.functional.layer_norm", method=None,
       backward="NativeLayerNormBackward0")
@_normalisation("LayerNormKernelImpl")
def layer_norm(x, *params, normalized_ndim, eps, has_weight=False, has_bias=False):
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    mean = _mean(x, axes)
    centred = x - mean
    var = jnp.mean(centred * centred, axis=axes, keepdims=True)
    shape = x.shape[x.ndim - normalized_ndim:]
    return _affine(centred * lax.rsqrt(var + eps), params, has_weight, has_bias, shape)


@defop("group_norm", "reduction", function="nn.functional.group_norm", method=None,
       backward="NativeGroupNormBackward0")
@_normalisation("GroupNormKernelImpl")
def group_norm(x, *params, num_groups, eps, has_weight=False, has_bias=False):
    """Statistics over each group of C/num_groups channels and all spatial positions."""
    # NOTE: explicit sizes, as -1 cannot be resolved for an empty batch
    grouped = x.reshape(x.shape[0], num_groups,
                        x.shape[1] // num_groups * math.prod(x.shape[2:]))
    mean = _mean(grouped, (2,))
    centred = grouped - mean
    var = jnp.mean(centred * centred, axis=2, keepdims=True)
    y = (centred * lax.rsqrt(var + eps)).reshape(x.shape)
    return _affine(y, params, has_weight, has_bias, _channel_shape(x))


@defop("normalize", "reduction", function="nn.functional.normalize", method=None,
       backward="DivBackward0")   # PyTorch divides by the clamped norm: its last node
@scalar_as_one_element
def normalize(x, *, p, dim, eps):
    """x / max(||x||_p, eps) along dim, with PyTorch's gradients: the norm's
    (distance.vector_norm: 0 for an all-zero slice instead of the NaN that d sqrt(0) would
    give, sign(0) = 0 in an L1 norm) and clamp_min's (all of it to the norm at norm == eps)."""
    norm = vector_norm(x, float(p), dim, True)
    return x / jnp.where(norm < eps, eps, norm)


@defop("channel_dropout", "opaque", random=True, nondiff_inputs=(1,), method=None,
       function=("nn.functional.dropout2d", "nn.functional.dropout1d"),
       backward="MulBackward0")   # PyTorch: the input times a per-channel mask
def channel_dropout(x, key, *, p):
    """Zero whole channels: one Bernoulli draw per (sample, channel) of x [N, C, ...]."""
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)
    keep = jax.random.bernoulli(jax.random.wrap_key_data(key), 1.0 - p, mask_shape)
    return jnp.where(keep, x / (1.0 - p), jnp.zeros((), x.dtype))
