"""torch.linalg's `cholesky_ex`, `householder_product`, and `eig` / `eigvals` refused.

`cholesky_ex` reports a matrix that is not positive-definite in `info` (the order of its
first leading minor that is not) instead of raising. Its factor is JAX's (LAPACK's potrf, as
PyTorch's) where the factorization completes; where it stops, the factor is what LAPACK's
unblocked column-by-column algorithm leaves, as PyTorch returns it for small matrices: the
columns before the failing one done, the failing diagonal entry holding its non-positive
pivot, the rest the input's own triangle.

`eig` and `eigvals` return complex tensors in PyTorch; graphnet has no complex dtype, so they
raise a TypeError that says so rather than return something else.

>>> import graphnet as torch
>>> torch.linalg.cholesky_ex(torch.tensor([[1., 2.], [2., 1.]])).info
tensor(2, dtype=torch.int32)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _factories as fac
from . import _math as M
from ._dispatch import dispatch
from ._ops._table import MATRIX_VALUES, ValueCheck, defop
from ._ops.linalg import LinAlgError, _one_triangle
from ._tensor import Tensor
from .return_types import return_type
from ._autocast import autocast_as

_CholeskyEx = return_type("linalg_cholesky_ex", ["L", "info"])


def _unblocked_cholesky(a):
    """(lower factor, info) of one lower-read matrix by LAPACK's potf2 order; it stops at
    the first pivot that is not positive and leaves the rest as it was."""
    n = a.shape[-1]
    cols = jnp.arange(n)

    def column(j, carry):
        factor, info = carry
        done = cols < j
        pivot = a[j, j] - jnp.sum(jnp.where(done, factor[j] ** 2, 0))
        fails = (info == 0) & ~(pivot > 0)
        goes = (info == 0) & (pivot > 0)
        root = jnp.sqrt(jnp.where(goes, pivot, 1))
        below = (a[:, j] - factor @ jnp.where(done, factor[j], 0)) / root
        new_col = jnp.where(cols > j, below, jnp.where(cols == j, root, 0))
        factor = factor.at[:, j].set(jnp.where(goes, new_col, factor[:, j]))
        factor = factor.at[j, j].set(jnp.where(fails, pivot, factor[j, j]))
        return factor, jnp.where(fails, j + 1, info)

    return jax.lax.fori_loop(0, n, column, (jnp.tril(a), jnp.int32(0)))


def _factor_and_info(a, upper):
    lower_read = _one_triangle(a, upper)
    batch = a.shape[:-2]
    flat = jax.lax.stop_gradient(lower_read).reshape((-1,) + a.shape[-2:])
    partial, info = jax.vmap(_unblocked_cholesky)(flat)
    partial, info = partial.reshape(a.shape), info.reshape(batch).astype(jnp.int32)
    done = jnp.linalg.cholesky(lower_read)
    factor = jnp.where((info == 0)[..., None, None], done, partial)
    return (jnp.swapaxes(factor, -1, -2) if upper else factor), info


def _not_positive_definite(a, *, upper, check):
    if not check or a.size == 0:
        return False, (0, 0)
    info = _factor_and_info(jnp.asarray(a), upper)[1].reshape(-1)
    batch = jnp.argmax(info > 0)
    return (info > 0).any(), (batch if a.ndim > 2 else -1, info[batch])


def _error(facts, **_):
    element = f"(Batch element {int(facts[0])}): " if int(facts[0]) >= 0 else ""
    return LinAlgError(f"linalg.cholesky_ex: {element}The factorization could not be "
                       f"completed because the input is not positive-definite (the leading "
                       f"minor of order {int(facts[1])} is not positive-definite).")


@defop("linalg_cholesky_ex", "opaque", n_outputs=2, function=None, method=None,
       backward="LinalgCholeskyExBackward0",
       check=ValueCheck(_not_positive_definite, _error, values_from=0,
                        when=lambda check, **_: bool(check), reads=MATRIX_VALUES))
def linalg_cholesky_ex(a, *, upper=False, check=False):
    return _factor_and_info(a, upper)


@autocast_as("float32")   # PyTorch's CPU autocast list
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """(L, info): `linalg.cholesky` that reports a matrix that is not positive-definite in
    `info` (the order of its first such leading minor, else 0) instead of raising, unless
    `check_errors=True`."""
    from .linalg import matrices
    matrices("linalg.cholesky", A)
    return _CholeskyEx(*dispatch("linalg_cholesky_ex", A, upper=bool(upper),
                                 check=bool(check_errors)))


@autocast_as("float32")   # PyTorch's CPU autocast list
def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, v_i column i of A
    below the diagonal with a 1 on it (the Q of geqrf's packed result)."""
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.householder_product: input must have at least 2 "
                           "dimensions.")
    from .linalg import refuse_low_precision
    refuse_low_precision("linalg.householder_product", A)
    m, n = A.shape[-2:]
    k = tau.shape[-1] if tau.dim() else 1
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if n < k:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"torch.linalg.householder_product: tau dtype {tau.dtype} does not "
                           f"match input dtype {A.dtype}")
    vectors = M.tril(A, -1) + fac.eye(m, n, dtype=A.dtype)
    Q = fac.eye(m, n, dtype=A.dtype).expand(*A.shape[:-2], m, n)
    for i in reversed(range(k)):
        v = vectors[..., :, i:i + 1]
        Q = Q - tau[..., i:i + 1, None] * M.matmul(v, M.matmul(v.mT, Q))
    return Q


def _complex_refused(name: str):
    def refused(A, *args, **kwargs):
        raise TypeError(f"linalg.{name} returns complex eigenvalues (and eigenvectors), and "
                        f"graphnet has no complex dtype, so it cannot return them. For a "
                        f"symmetric matrix use linalg.eigh / linalg.eigvalsh; otherwise "
                        f"compute them outside graphnet (torch or numpy.linalg.{name}).")
    refused.__name__ = refused.__qualname__ = name
    refused.__doc__ = f"Refused: `linalg.{name}` needs complex tensors (a TypeError says so)."
    return refused


eig = _complex_refused("eig")
eigvals = _complex_refused("eigvals")
