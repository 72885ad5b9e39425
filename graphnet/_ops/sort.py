"""Sorting and selection: sort, topk, kthvalue, searchsorted.

Each kernel finds integer positions with a stable argsort and gathers the values with them,
so the values' gradient is JAX's gradient of that gather: it lands on the selected input
positions, as in PyTorch, and the int64 indices carry none. Output shapes depend only on the
input's shape and the attributes (`k`), so a compiled program has static shapes.

NOTE: torch.sort and torch.topk leave the order of equal values unspecified unless
`stable=True`; graphnet always sorts stably, which is one of the orders PyTorch may return.
NaN sorts as the largest value, as in PyTorch.

The user-facing functions and Tensor methods (which return named tuples) are in
graphnet/_sorting.py; these entries only name them."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._table import defop


def _argsort(x, dim: int, descending: bool):
    # NOTE: jnp.argsort sorts a descending order stably too (equal values keep their order).
    return jnp.argsort(x, axis=dim, stable=True, descending=descending).astype(jnp.int64)


@defop("sort", "opaque", n_outputs=2, function=("sort", "argsort", "msort"), method=None)
def sort(x, *, dim=-1, descending=False):
    indices = _argsort(x, dim, descending)
    return jnp.take_along_axis(x, indices, axis=dim), indices


@defop("topk", "opaque", n_outputs=2, method=None)
def topk(x, *, k, dim=-1, largest=True):
    indices = jax.lax.slice_in_dim(_argsort(x, dim, largest), 0, k, axis=dim)
    return jnp.take_along_axis(x, indices, axis=dim), indices


@defop("kthvalue", "opaque", n_outputs=2, method=None)
def kthvalue(x, *, k, dim=-1, keepdim=False):
    indices = jax.lax.slice_in_dim(_argsort(x, dim, False), k - 1, k, axis=dim)
    values = jnp.take_along_axis(x, indices, axis=dim)
    if keepdim:
        return values, indices
    return jnp.squeeze(values, axis=dim), jnp.squeeze(indices, axis=dim)


def _torch_bounds(sequence, values, right: bool):
    """PyTorch's binary search, step for step: the start moves past a middle element unless
    `mid >= value` (`mid > value` with `right`). Any comparison with NaN is false, so a NaN
    value lands at the end and a NaN in the sequence sends the search right, as in torch;
    `jnp.searchsorted` orders NaN differently. `sequence` is 1-D, or (..., n) with
    `values` (..., m) sharing its leading dims."""
    n = sequence.shape[-1]
    start = jnp.zeros(jnp.shape(values), jnp.int64)
    end = jnp.full(jnp.shape(values), n, jnp.int64)
    if n == 0:
        return start

    def middle(mid):
        if sequence.ndim == 1:
            return jnp.take(sequence, mid)
        return jnp.take_along_axis(sequence, mid, axis=-1)

    def step(_, bounds):
        low, high = bounds
        active = low < high
        mid = low + ((high - low) >> 1)
        at = middle(jnp.clip(mid, 0, n - 1))
        right_of = ~(at > values) if right else ~(at >= values)
        return (jnp.where(active & right_of, mid + 1, low),
                jnp.where(active & ~right_of, mid, high))

    low, _ = jax.lax.fori_loop(0, n.bit_length(), step, (start, end))
    return low


@defop("searchsorted", "opaque", differentiable=False, function=("searchsorted", "bucketize"),
       method=None)
def searchsorted(sequence, values, *, right=False, out_int32=False):
    found = _torch_bounds(sequence, jnp.asarray(values), right)
    return found.astype(jnp.int32 if out_int32 else jnp.int64)
