"""Fake quantization, PyTorch's quantization-aware-training primitive: a float tensor rounded
to the integer grid `scale * (q - zero_point)`, `quant_min <= q <= quant_max`, and returned as
floats. Its gradient is the straight-through estimator: the incoming gradient where the
unclamped `q` lies in the range, zero where it was clamped.

As PyTorch's CPU kernels compute it: the reciprocal `1 / scale` in float32, `q` rounded half
to even, an integer zero point added after rounding (a float one before); half and bfloat16
inputs computed in float32 and rounded once, float64 inputs in float64 with the float32
scale. The scale and zero point take no gradient (PyTorch refuses one)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._table import ValueCheck, defop


def fake_quantize(x, scale, zero_point, *, axis, quant_min, quant_max):
    """`axis` None: one scale and zero point (numbers or one-element arrays), the product
    `(q - zero_point) * scale` taken in float32 as PyTorch's per-tensor kernel takes it; else
    1-d arrays of them along `axis`, the product in the compute type."""
    wide = jnp.float64 if x.dtype == jnp.float64 else jnp.float32
    scale = jnp.asarray(scale, jnp.float32)
    zero_point = jnp.asarray(zero_point)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    else:
        scale, zero_point = scale.reshape(()), zero_point.reshape(())
    inverse = (jnp.float32(1) / scale).astype(wide)
    product = wide if axis is not None else jnp.float32
    return _fake_quantize(x, scale.astype(product), inverse, zero_point, quant_min, quant_max)


def _bad_zero_points(x, scale, zero_point, *, axis, quant_min, quant_max):
    """(bad, (bad,)): a per-channel zero point outside [quant_min, quant_max]."""
    bad = ((zero_point < quant_min) | (zero_point > quant_max)).any()
    return bad, (bad * 1,)


def _zero_point_error(facts, **attrs):
    return RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")


# one kernel, PyTorch's three autograd nodes (their names show in grad_fn); the per-channel
# zero points are checked in compiled calls too (compiler/checks.py), as PyTorch checks them
for _name in ("fake_quantize_per_tensor_affine_cachemask",
              "fake_quantize_per_tensor_affine_cachemask_tensor_qparams",
              "fake_quantize_per_channel_affine_cachemask"):
    defop(_name, "broadcast", nondiff_inputs=(1, 2), function=None, method=None,
          check=ValueCheck(_bad_zero_points, _zero_point_error, values_from=2)
          if _name.endswith("channel_affine_cachemask") else None)(fake_quantize)


def _grid(x, inverse, zero_point):
    """The unclamped integer `q` of each element, as a float of the compute type."""
    v = x.astype(inverse.dtype) * inverse
    if jnp.issubdtype(zero_point.dtype, jnp.floating):
        q = jnp.round(v + zero_point.astype(v.dtype))
    else:
        q = jnp.round(v) + zero_point.astype(v.dtype)
    # NaN (x NaN, or 0 * inf for a zero scale): PyTorch's int64 cast makes it the lowest
    # integer, clamped to quant_min, outside the range for the gradient
    return jnp.where(jnp.isnan(q), -jnp.inf, q)


@functools.partial(jax.custom_jvp, nondiff_argnums=(4, 5))
def _fake_quantize(x, scale, inverse, zero_point, quant_min, quant_max):
    q = _grid(x, inverse, zero_point)
    clamped = jnp.clip(q, quant_min, quant_max)
    return ((clamped - zero_point.astype(q.dtype)).astype(scale.dtype) * scale).astype(x.dtype)


@_fake_quantize.defjvp
def _fake_quantize_jvp(quant_min, quant_max, primals, tangents):
    x, _, inverse, zero_point = primals
    q = _grid(x, inverse, zero_point)
    inside = (q >= quant_min) & (q <= quant_max)
    out = _fake_quantize(*primals, quant_min, quant_max)
    return out, jnp.where(inside, tangents[0], jnp.zeros((), tangents[0].dtype))
