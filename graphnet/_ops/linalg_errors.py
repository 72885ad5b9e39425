"""PyTorch's errors for matrices whose values LAPACK refuses, shared by the linear algebra
kernels (linalg.py, linalg_cutoffs.py, linalg_cholesky_factor.py): the exception class and
the checks that find a bad matrix in a batch, eagerly or inside a compiled program."""

from __future__ import annotations

import jax.numpy as jnp

from ._table import MATRIX_VALUES, ValueCheck


class LinAlgError(RuntimeError):
    """`torch.linalg.LinAlgError`: a matrix the algorithm cannot handle (singular, not
    positive-definite), found from its values."""


def first_bad(bad_rows):
    """(any, batch element, 1-based position) of the first True in `bad_rows` (..., n)."""
    rows = bad_rows.reshape(-1, bad_rows.shape[-1]) if bad_rows.ndim else bad_rows.reshape(1, 1)
    hit = rows.any(axis=-1)
    batch = jnp.argmax(hit)
    return hit.any(), batch, jnp.argmax(rows[batch]) + 1


def _nan_entries(a, *_, **__):
    """A matrix with a NaN: LAPACK's SVD does not converge and PyTorch raises (an inf
    alone gives NaN values, no error, in both)."""
    if a.size == 0:
        return False, (0,)
    matrices = a.reshape((-1, a.shape[-2] * a.shape[-1]))
    bad, batch, _ = first_bad(jnp.isnan(matrices))
    return bad, (batch, int(a.ndim > 2))


def batch_element(batch, batched) -> str:
    """PyTorch's prefix naming the failing matrix of a batch: "(Batch element 3): "."""
    return f"(Batch element {batch}): " if batched else ""


def _svd_error(facts, **_):
    batch, batched = facts[:2]
    where = batch_element(batch, batched)
    return LinAlgError(f"linalg.svd: {where}The algorithm failed to converge because the "
                       f"input matrix contained non-finite values.")


NAN_SVD = ValueCheck(_nan_entries, _svd_error, values_from=0, reads=MATRIX_VALUES)
