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


def _search_rows(sequence, values, side: str):
    """Per-row search: `sequence` (..., n) and `values` (..., m) share their leading dims."""
    lead = sequence.shape[:-1]
    rows = jax.vmap(lambda s, v: jnp.searchsorted(s, v, side=side))(
        sequence.reshape(-1, sequence.shape[-1]), values.reshape(-1, values.shape[-1]))
    return rows.reshape(lead + values.shape[-1:])


@defop("searchsorted", "opaque", differentiable=False, function=("searchsorted", "bucketize"),
       method=None)
def searchsorted(sequence, values, *, right=False, out_int32=False):
    side = "right" if right else "left"
    if sequence.ndim == 1:
        found = jnp.searchsorted(sequence, values, side=side)
    else:
        found = _search_rows(sequence, values, side)
    return found.astype(jnp.int32 if out_int32 else jnp.int64)
