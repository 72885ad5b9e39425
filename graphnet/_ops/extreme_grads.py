"""The gradient of amax/amin and of max()/min() of all elements, as PyTorch's.

Each element equal to the result gets an even share of its gradient. Where the result is NaN,
PyTorch's amax gives every element of that slice NaN (its share is the gradient divided by a
count of 0), and max() of all elements gives the NaN elements the shares. JAX's own rule
computes the shares the same way, but XLA rewrites `share * (x == result)` into a select
inside a jitted backward, so the NaN became 0 and a NaN in the input vanished from the
gradient. Here the weights are data (`weights`): each element's share, or NaN."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def chosen_extreme(reduce, x, dim, keepdim: bool, share_nan: bool):
    """`reduce(x, axis=dim, keepdims=keepdim)` (jnp.max or jnp.min) with PyTorch's gradient."""
    axes = _axes(dim, x.ndim)
    if axes is None or not jnp.issubdtype(x.dtype, jnp.inexact):
        return reduce(x, axis=dim, keepdims=keepdim)   # (an out-of-range dim raises here)
    return _extreme(reduce, axes, keepdim, share_nan, x)


def _axes(dim, ndim: int) -> tuple | None:
    """`dim` as sorted non-negative axes; None when one is out of range."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if any(not -ndim <= d < ndim for d in dims):
        return None
    return tuple(sorted(d % ndim for d in dims))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2, 3))
def _extreme(reduce, axes, keepdim, share_nan, x):
    return reduce(x, axis=axes, keepdims=keepdim)


@_extreme.defjvp
def _extreme_jvp(reduce, axes, keepdim, share_nan, primals, tangents):
    (x,), (t,) = primals, tangents
    result = reduce(x, axis=axes, keepdims=True)
    weights = _weights(x, result, axes, share_nan)
    shares = t * weights
    if share_nan:   # max() of all elements selects, as PyTorch's masked_fill: an infinite
        # gradient gives the other elements 0, not inf * 0 = NaN (amax multiplies, as here)
        shares = jnp.where(weights != 0, shares, jnp.zeros((), shares.dtype))
    out = jnp.sum(shares, axis=axes, keepdims=True)
    if not keepdim:
        result, out = jnp.squeeze(result, axes), jnp.squeeze(out, axes)
    return result, out


def _weights(x, result, axes, share_nan: bool):
    """Each element's share of the gradient of `result` (kept dims): 1/count where it equals
    the result, else 0; a NaN result: NaN everywhere (amax), or the NaN elements' shares."""
    x = jax.lax.stop_gradient(x)
    nan = jnp.isnan(result)
    same = jnp.where(nan, jnp.isnan(x), x == result) if share_nan else x == result
    count = jnp.sum(same, axis=axes, keepdims=True).astype(x.dtype)
    share = jnp.where(same, 1 / jnp.maximum(count, 1), 0).astype(x.dtype)
    return share if share_nan else jnp.where(count == 0, jnp.nan, share).astype(x.dtype)
