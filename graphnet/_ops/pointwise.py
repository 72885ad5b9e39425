"""Pointwise ops: arithmetic, comparisons, activations."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._table import defop


def _binary(name: str, fn, differentiable: bool = True):
    defop(name, "broadcast", differentiable=differentiable)(fn)


_binary("add", jnp.add)
_binary("sub", jnp.subtract)
_binary("mul", jnp.multiply)
_binary("div", jnp.true_divide)
_binary("pow", jnp.power)
_binary("maximum", jnp.maximum)
_binary("minimum", jnp.minimum)
_binary("atan2", jnp.arctan2)
for _name, _fn in [("eq", jnp.equal), ("ne", jnp.not_equal), ("lt", jnp.less),
                   ("le", jnp.less_equal), ("gt", jnp.greater), ("ge", jnp.greater_equal),
                   ("logical_and", jnp.logical_and), ("logical_or", jnp.logical_or),
                   ("floor_divide", jnp.floor_divide), ("remainder", jnp.remainder)]:
    _binary(_name, _fn, differentiable=False)


@defop("where", "broadcast", nondiff_inputs=(0,))
def where(cond, a, b):
    return jnp.where(cond, a, b)


def _unary(name: str, fn, differentiable: bool = True):
    defop(name, "elementwise", differentiable=differentiable)(fn)


for _name, _fn in [("neg", jnp.negative), ("exp", jnp.exp), ("log", jnp.log),
                   ("sqrt", jnp.sqrt), ("rsqrt", jax.lax.rsqrt), ("abs", jnp.abs),
                   ("sin", jnp.sin), ("cos", jnp.cos), ("tanh", jnp.tanh),
                   ("sigmoid", jax.nn.sigmoid), ("relu", jax.nn.relu),
                   ("relu6", jax.nn.relu6), ("silu", jax.nn.silu), ("erf", jax.scipy.special.erf),
                   ("log1p", jnp.log1p), ("expm1", jnp.expm1), ("square", jnp.square),
                   ("reciprocal", jnp.reciprocal), ("log2", jnp.log2), ("exp2", jnp.exp2)]:
    _unary(_name, _fn)
for _name, _fn in [("sign", jnp.sign), ("floor", jnp.floor), ("ceil", jnp.ceil),
                   ("round", jnp.round), ("trunc", jnp.trunc), ("logical_not", jnp.logical_not),
                   ("isnan", jnp.isnan), ("isinf", jnp.isinf)]:
    _unary(_name, _fn, differentiable=False)


@defop("clone", "elementwise")
def clone(x):
    return jnp.array(x, copy=True)


@defop("detach", "elementwise", differentiable=False)
def detach(x):
    """Only in traced graphs: the point where `.detach()`, `no_grad()` or a frozen tensor cut a
    gradient that the graph's structure alone would let through (see compiler/autodiff.py)."""
    return jax.lax.stop_gradient(x)


@defop("cast", "elementwise")
def cast(x, *, dtype):
    return x.astype(dtype)


@defop("clamp", "elementwise")
def clamp(x, *, min=None, max=None):
    return jnp.clip(x, min, max)


@defop("leaky_relu", "elementwise")
def leaky_relu(x, *, negative_slope=0.01):
    return jnp.where(x >= 0, x, x * negative_slope)


@defop("elu", "elementwise")
def elu(x, *, alpha=1.0):
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0)))


@defop("gelu", "elementwise")
def gelu(x, *, approximate="none"):
    return jax.nn.gelu(x, approximate=approximate == "tanh")


@defop("softplus", "elementwise")
def softplus(x, *, beta=1.0, threshold=20.0):
    # PyTorch reverts to the identity above `threshold` for numerical stability.
    scaled = x * beta
    smooth = jnp.log1p(jnp.exp(jnp.minimum(scaled, threshold))) / beta
    return jnp.where(scaled > threshold, x, smooth)


@defop("hardtanh", "elementwise")
def hardtanh(x, *, min_val=-1.0, max_val=1.0):
    return jnp.clip(x, min_val, max_val)


@defop("prelu", "broadcast")
def prelu(x, weight):
    # weight has one entry per channel (dim 1) or a single entry for all channels
    if weight.size > 1 and x.ndim > 1:
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return jnp.where(x >= 0, x, weight * x)
