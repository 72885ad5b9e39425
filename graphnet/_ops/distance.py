"""Distance kernels: cosine_similarity, pairwise_distance, cdist, pdist, dist.

Every distance is a p-norm of a difference, and PyTorch's norm has its own gradient rule
where autodiff of the formula would give NaN: at a zero norm the gradient is 0 (p = 2 would
otherwise divide 0 by 0), ties of the max share the gradient of p = inf, and p = 0 (a count)
has none. `vector_norm` below carries exactly those rules as a custom JVP, so `cdist(x, x)`
and `pdist` of repeated rows train without NaN, as in PyTorch.

The user-facing functions (argument checks, dtype rules) are in
graphnet/nn/functional_distance.py."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ._opmath import wide_sum
from ._table import defop


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def vector_norm(x, p: float, axis, keepdims: bool = False):
    """The p-norm of `x` over `axis` (PyTorch's linalg.vector_norm, any real p >= or < 0).
    Half precision is reduced in float32 and rounded once, as PyTorch does: fp16 gradients
    [300, 400] had norm inf (the squares overflow), so clip_grad_norm_ zeroed them."""
    if x.dtype in (jnp.float16, jnp.bfloat16):
        return vector_norm(x.astype(jnp.float32), p, axis, keepdims).astype(x.dtype)
    a = jnp.abs(x)
    if p == 0:
        return jnp.sum((x != 0).astype(x.dtype), axis=axis, keepdims=keepdims)
    if p == math.inf:
        return jnp.max(a, axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return jnp.min(a, axis=axis, keepdims=keepdims)
    if p == 1:
        return jnp.sum(a, axis=axis, keepdims=keepdims)
    if p == 2:
        return jnp.sqrt(jnp.sum(x * x, axis=axis, keepdims=keepdims))
    return jnp.sum(a ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _norm_slope(x, norm, p: float):
    """d norm / d x, PyTorch's norm_backward: `norm` is kept (broadcasts against x)."""
    sign = jnp.sign(x)
    if p == 0:
        return jnp.zeros_like(x)
    if p == 1:
        return sign
    if math.isinf(p):   # the max (or min) |x|, shared between ties
        hit = (jnp.abs(x) == norm) | jnp.isnan(x)
        count = jnp.sum(hit, axis=_reduced_axes(x, norm), keepdims=True)
        return sign * hit / count
    zero = norm == 0
    safe = jnp.where(zero, 1, norm)
    if p == 2:
        return jnp.where(zero, 0, x / safe)
    if p < 1:
        # NOTE: |x|^(p-1) is infinite at x = 0; PyTorch masks those entries to 0.
        scaled = jnp.where(x == 0, 0, sign * jnp.abs(jnp.where(x == 0, 1, x)) ** (p - 1))
        return scaled * norm ** (1 - p)
    if p < 2:
        return jnp.where(zero, 0, sign * jnp.abs(x) ** (p - 1) * safe ** (1 - p))
    return jnp.where(zero, 0, x * jnp.abs(x) ** (p - 2) / safe ** (p - 1))


def _reduced_axes(x, norm):
    return tuple(i for i in range(x.ndim) if norm.shape[i] == 1 and x.shape[i] != 1) or None


@vector_norm.defjvp
def _vector_norm_jvp(p, axis, keepdims, primals, tangents):
    (x,), (dx,) = primals, tangents
    # NOTE: PyTorch's 2-norm gradient of half precision is x / norm rounded once (float32
    # here); for other orders it computes the slope in half precision itself
    half = x.dtype if x.dtype in (jnp.float16, jnp.bfloat16) and p == 2 else None
    if half is not None:
        x, dx = x.astype(jnp.float32), dx.astype(jnp.float32)
    out = vector_norm(x, p, axis, keepdims)
    kept = out if keepdims else jnp.expand_dims(out, axis if axis is not None
                                                else tuple(range(x.ndim)))
    slope = _norm_slope(x, kept, p)
    tangent = jnp.sum(slope * dx, axis=axis, keepdims=keepdims)
    if half is not None:
        return out.astype(half), tangent.astype(half)
    return out, tangent


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def clamp_value_keep_grad(x, low: float):
    """max(x, low) whose gradient passes to x everywhere: PyTorch clamps the norms of
    cosine_similarity in place under no_grad, so its backward sees the unclamped norm."""
    return jnp.maximum(x, low)


@clamp_value_keep_grad.defjvp
def _clamp_keep_jvp(low, primals, tangents):
    return clamp_value_keep_grad(primals[0], low), tangents[0]


# NOTE: PyTorch composes both from ordinary ops, ending in a sum over `dim` (SumBackward1)
# and a norm over the last dim (NormBackward1)
@defop("cosine_similarity", "reduction",
       function=("cosine_similarity", "nn.functional.cosine_similarity"), method=None,
       backward="SumBackward1")
def cosine_similarity(x1, x2, *, dim=1, eps=1e-8):
    """Each input divided by its norm (clamped at eps), then their dot product along dim."""
    x1, x2 = jnp.broadcast_arrays(x1, x2)
    n1 = clamp_value_keep_grad(vector_norm(x1, 2.0, dim, True), eps)
    n2 = clamp_value_keep_grad(vector_norm(x2, 2.0, dim, True), eps)
    return wide_sum((x1 / n1) * (x2 / n2), dim, False)


@defop("pairwise_distance", "reduction",
       function=("pairwise_distance", "nn.functional.pairwise_distance"), method=None,
       backward="NormBackward1")
def pairwise_distance(x1, x2, *, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dimension of the broadcast shape."""
    d = x1 - x2 + eps
    if d.ndim == 0:   # PyTorch takes the norm of a 0-d difference over "dim -1": itself
        return vector_norm(d.reshape(1), p, 0, False)
    return vector_norm(d, p, d.ndim - 1, keepdim)


def _euclidean_by_matmul(x1, x2):
    """PyTorch's matmul form of p = 2 (|a|^2 - 2 a.b + |b|^2): memory of the output only."""
    n1 = jnp.sum(x1 * x1, axis=-1, keepdims=True)
    n2 = jnp.sum(x2 * x2, axis=-1, keepdims=True)
    sq = n1 - 2 * jnp.matmul(x1, jnp.swapaxes(x2, -1, -2)) + jnp.swapaxes(n2, -1, -2)
    positive = sq > 0
    # NOTE: rounding can leave a tiny negative square; PyTorch clamps it to 0. The gradient
    # there is 0 (not sqrt's infinity times 0).
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1)), 0)


@defop("cdist", "opaque", method=None)
def cdist(x1, x2, *, p=2.0, use_mm=False):
    """[..., P, M] and [..., R, M] -> [..., P, R]: the p-norm distance of every row pair."""
    if use_mm:
        x1, x2 = _broadcast_batch(x1, x2)
        return _euclidean_by_matmul(x1, x2)
    return _row_distance(x1[..., :, None, :] - x2[..., None, :, :], p)


@jax.custom_jvp
def _chebyshev(d):
    return jnp.max(jnp.abs(d), axis=-1)


@_chebyshev.defjvp
def _chebyshev_jvp(primals, tangents):
    (d,), (dd,) = primals, tangents
    out = _chebyshev(d)
    hit = jnp.abs(d) == out[..., None]
    return out, jnp.sum(jnp.where(hit, jnp.sign(d) * dd, 0), axis=-1)


def _row_distance(d, p):
    """The p-norm of `d` over its last dim, as cdist/pdist: at p = inf every coordinate that
    ties for the max takes the whole gradient (PyTorch's cdist_backward; a norm splits it)."""
    return _chebyshev(d) if p == math.inf else vector_norm(d, p, -1, False)


def _broadcast_batch(x1, x2):
    batch = jnp.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    return (jnp.broadcast_to(x1, batch + x1.shape[-2:]),
            jnp.broadcast_to(x2, batch + x2.shape[-2:]))


@defop("pdist", "opaque", function=("pdist", "nn.functional.pdist"), method=None)
def pdist(x, *, p=2.0):
    """[N, M] -> [N (N - 1) / 2]: distances of rows i < j, in row-major order of (i, j)."""
    i, j = np.triu_indices(x.shape[0], 1)
    return _row_distance(x[i] - x[j], p)


@defop("dist", "reduction", method=None)   # Tensor.dist: graphnet/_distance_top.py
def dist(x, y, *, p=2.0):
    """The p-norm of x - y (broadcast) over all its elements: a 0-d tensor."""
    return vector_norm(jnp.ravel(x - y), p, 0, False)
