"""Kernels that take a Cholesky factor: `cholesky_solve` and `cholesky_inverse`.

Both read one triangle of the factor (the lower one, or the upper with `upper=True`), but
PyTorch's gradient is that of the whole matrix L used as L L^T (or U^T U): nonzero on the
other triangle too. JAX's, through its triangular solves, was zero there, silently; each
kernel below has PyTorch's formula as its custom VJP.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from ._promote import torch_name
from ._table import MATRIX_VALUES, ValueCheck, defop
from .linalg_errors import LinAlgError, batch_element, first_bad


def same_dtype(b, a) -> None:
    """PyTorch refuses a right-hand side B and a matrix A of different dtypes (JAX promoted).
    Dtypes are static: eager and compiled calls raise alike."""
    if b.dtype != a.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{torch_name(b.dtype)} and A of type {torch_name(a.dtype)} instead.")


def _mT(a):
    return jnp.swapaxes(a, -1, -2)


def _batch_broadcast(a, b):
    """`a` and `b` with their batch dims (all but the last two) broadcast together."""
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return jnp.broadcast_to(a, batch + a.shape[-2:]), jnp.broadcast_to(b, batch + b.shape[-2:])


def _factor_cotangent(common, factor, upper):
    """The factor's cotangent from the symmetric `common` term: -common L, or -U common."""
    return -(factor @ common) if upper else -(common @ factor)


@defop("cholesky_solve", "opaque", method=None)
def cholesky_solve(b, factor, *, upper=False):
    """X with A X = B, where A = L L^T and `factor` is L (or U = L^T with upper=True)."""
    same_dtype(b, factor)
    b, factor = _batch_broadcast(b, factor)
    return _cholesky_solve(b, factor, bool(upper))


def _cholesky_solve_value(b, factor, upper):
    lower = _mT(factor) if upper else factor
    y = jsl.solve_triangular(lower, b, lower=True)
    return jsl.solve_triangular(_mT(lower), y, lower=False)


# PyTorch's gradient (cholesky_solve_backward): G_B = A^-1 G, and for the factor
# -(G_B X^T + X G_B^T) L (or -U (...) with upper=True).
@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _cholesky_solve(b, factor, upper):
    return _cholesky_solve_value(b, factor, upper)


def _cholesky_solve_fwd(b, factor, upper):
    x = _cholesky_solve_value(b, factor, upper)
    return x, (factor, x)


def _cholesky_solve_bwd(upper, residuals, g):
    factor, x = residuals
    g_b = _cholesky_solve_value(g, factor, upper)
    common = g_b @ _mT(x)
    return g_b, _factor_cotangent(common + _mT(common), factor, upper)


_cholesky_solve.defvjp(_cholesky_solve_fwd, _cholesky_solve_bwd)


def _zero_diagonal(factor, *_, **__):
    """A singular factor: a zero on its diagonal (the inverse would be inf/NaN; PyTorch's
    LAPACK potri raises)."""
    if factor.size == 0:
        return False, (0, 0, 0)
    bad, batch, position = first_bad(jnp.diagonal(factor, axis1=-2, axis2=-1) == 0)
    return bad, (batch, position, factor.ndim > 2)


def _singular_error(facts, **_):
    batch, position, batched = facts
    where = batch_element(batch, batched)
    return LinAlgError(f"cholesky_inverse: {where}The diagonal element {position} is zero, "
                       f"the inversion could not be completed because the input matrix is "
                       f"singular.")


@defop("cholesky_inverse", "opaque", method=None,
       check=ValueCheck(_zero_diagonal, _singular_error, values_from=0,
                        reads=MATRIX_VALUES))
def cholesky_inverse(factor, *, upper=False):
    return _cholesky_inverse(factor, bool(upper))


def _cholesky_inverse_value(factor, upper):
    lower = _mT(factor) if upper else factor
    eye = jnp.broadcast_to(jnp.eye(lower.shape[-1], dtype=lower.dtype), lower.shape)
    inv_lower = jsl.solve_triangular(lower, eye, lower=True)
    return _mT(inv_lower) @ inv_lower


# PyTorch's gradient (cholesky_inverse_backward): -(R (G + G^T) R) L with R the result.
@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _cholesky_inverse(factor, upper):
    return _cholesky_inverse_value(factor, upper)


def _cholesky_inverse_fwd(factor, upper):
    out = _cholesky_inverse_value(factor, upper)
    return out, (factor, out)


def _cholesky_inverse_bwd(upper, residuals, g):
    factor, out = residuals
    return (_factor_cotangent(out @ (g + _mT(g)) @ out, factor, upper),)


_cholesky_inverse.defvjp(_cholesky_inverse_fwd, _cholesky_inverse_bwd)
