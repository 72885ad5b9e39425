"""Kernels that drop small singular values: `linalg.pinv` and `linalg.lstsq`.

Both go through the SVD (or eigh for a hermitian pinv); a singular value at or below the
cutoff counts as exactly zero. PyTorch's gradients differ from what JAX would derive:

- pinv: PyTorch differentiates the truncated pseudo-inverse P of A with the constant-rank
  formula dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, so a dropped singular
  value contributes nothing (JAX's SVD rule would differentiate 1/s of kept values only,
  but the projections onto the dropped directions differ).
- lstsq: whatever the driver and rcond, PyTorch's gradient is that of pinv(A) @ B with
  pinv's default cutoff (eps * max(m, n)), even where the solution itself used rcond.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._promote import torch_name
from ._table import MATRIX_VALUES, ValueCheck, defop
from .linalg_errors import NAN_SVD, batch_element, first_bad


def _mT(a):
    return jnp.swapaxes(a, -1, -2)


def default_rtol(dtype, m: int, n: int) -> float:
    """PyTorch's relative cutoff when none is given: eps of the dtype times max(m, n)."""
    return float(jnp.finfo(dtype).eps) * max(m, n)


def _inverse_kept(values, cutoff):
    """1 / values where values > cutoff, else 0 (no NaN gradient through the dropped ones)."""
    kept = values > cutoff
    return jnp.where(kept, 1 / jnp.where(kept, values, 1), 0)


def _svd_pinv(a, atol, rtol):
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    cutoff = jnp.maximum(atol, rtol * jnp.max(s, axis=-1, keepdims=True, initial=0.0))
    return (_mT(vh) * _inverse_kept(s, cutoff)[..., None, :]) @ _mT(u)


def _eigh_pinv(a, atol, rtol):
    # NOTE: PyTorch reads only the lower triangle of a "hermitian" A, mirrored; JAX's eigh
    # averaged A with its transpose, a different matrix when A is not symmetric.
    lower_mirrored = jnp.tril(a) + _mT(jnp.tril(a, -1))
    w, v = jnp.linalg.eigh(lower_mirrored, symmetrize_input=False)
    size = jnp.abs(w)
    cutoff = jnp.maximum(atol, rtol * jnp.max(size, axis=-1, keepdims=True, initial=0.0))
    kept = size > cutoff
    inv = jnp.where(kept, 1 / jnp.where(kept, w, 1), 0)
    return (v * inv[..., None, :]) @ _mT(v)


def _pinv_cotangent(g, p, a):
    """The cotangent of A for cotangent `g` of P = pinv(A), rank held constant: the adjoint
    of the formula in the module docstring, term by term."""
    gt, pt = _mT(g), _mT(p)
    through_p = -(pt @ g @ pt)
    left_null = (gt - a @ (p @ gt)) @ (p @ pt)      # (I - A P) G^T P P^T
    right_null = (pt @ p) @ (gt - (gt @ p) @ a)     # P^T P G^T (I - P A)
    return through_p + left_null + right_null


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _pinv(a, atol, rtol, hermitian):
    return _eigh_pinv(a, atol, rtol) if hermitian else _svd_pinv(a, atol, rtol)


def _pinv_fwd(a, atol, rtol, hermitian):
    p = _pinv(a, atol, rtol, hermitian)
    return p, (a, p, atol, rtol)


def _pinv_bwd(hermitian, residuals, g):
    a, p, atol, rtol = residuals
    # the tolerances only choose which values are dropped: no gradient, as in PyTorch
    return _pinv_cotangent(g, p, a), jnp.zeros_like(atol), jnp.zeros_like(rtol)


_pinv.defvjp(_pinv_fwd, _pinv_bwd)


def _nan_unless_hermitian(a, *tolerances, hermitian=False):
    """pinv goes through the SVD, which refuses a NaN (NAN_SVD); the hermitian path goes
    through eigh, which returns NaN, as PyTorch's does."""
    return (False, (0, 0)) if hermitian else NAN_SVD.find(a)


@defop("linalg_pinv", "opaque", function=("linalg.pinv", "pinverse"), method=None,
       check=ValueCheck(_nan_unless_hermitian, NAN_SVD.error, values_from=0,
                        reads=MATRIX_VALUES))
def linalg_pinv(a, atol=0.0, rtol=None, *, hermitian=False):
    """Singular values at or below max(atol, rtol * largest) dropped; rtol defaults to
    eps * max(m, n) where atol is not positive, as in PyTorch. `atol` and `rtol` are numbers
    or tensors, one value per matrix, broadcast with A's batch dims."""
    m, n = a.shape[-2:]
    # a trailing dim, so that a tolerance per matrix meets that matrix's singular values
    atol = jnp.asarray(atol, a.dtype)[..., None]
    if rtol is None:
        rtol = jnp.where(atol > 0, 0, default_rtol(a.dtype, m, n)).astype(a.dtype)
    else:
        rtol = jnp.asarray(rtol, a.dtype)[..., None]
    batch = jnp.broadcast_shapes(a.shape[:-2], atol.shape[:-1], rtol.shape[:-1])
    a = jnp.broadcast_to(a, batch + a.shape[-2:])
    return _pinv(a, atol, rtol, bool(hermitian))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _lstsq(a, b, rcond):
    return _svd_pinv(a, 0.0, rcond) @ b


def _lstsq_fwd(a, b, rcond):
    m, n = a.shape[-2:]
    # NOTE: one SVD serves both the solution (cut at rcond) and the gradient (cut at
    # pinv's default), as PyTorch's backward recomputes pinv(A) with default tolerances.
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    largest = jnp.max(s, axis=-1, keepdims=True, initial=0.0)
    v = _mT(vh)
    solution = (v * _inverse_kept(s, rcond * largest)[..., None, :]) @ (_mT(u) @ b)
    p = (v * _inverse_kept(s, default_rtol(a.dtype, m, n) * largest)[..., None, :]) @ _mT(u)
    return solution, (a, b, p)


def _lstsq_bwd(rcond, residuals, g):
    a, b, p = residuals
    return _pinv_cotangent(g @ _mT(b), p, a), _mT(p) @ g


_lstsq.defvjp(_lstsq_fwd, _lstsq_bwd)


def _nan_operand(a, b, **_):
    """A NaN in A or B: PyTorch's LAPACK drivers (MKL's gelsy, gelsd, gelss) report the
    matrix as an illegal argument and PyTorch raises; JAX returned a NaN solution."""
    bad_a, batch_a = _first_nan(a)
    bad_b, batch_b = _first_nan(b)
    batched = int(max(a.ndim, b.ndim) > 2)
    return bad_a | bad_b, (jnp.where(bad_a, batch_a, batch_b), jnp.where(bad_a, 4, 6), batched)


def _first_nan(x):
    """(any NaN, the first batch element holding one); nothing for an empty operand (a
    zero-row A, a batch of no problems), whose rows a reshape by -1 could not count."""
    if x.size == 0:
        return False, 0
    bad, batch, _ = first_bad(jnp.isnan(x.reshape((-1, x.shape[-2] * x.shape[-1]))))
    return bad, batch


def _illegal_argument(facts, **_):
    batch, argument, batched = facts
    where = batch_element(batch, batched)
    return RuntimeError(f"torch.linalg.lstsq: {where}Argument {argument} has illegal value: "
                        f"the {'input' if argument == 4 else 'other'} matrix contains NaN, "
                        f"which the LAPACK driver refuses")


@defop("linalg_lstsq", "opaque", function="linalg.lstsq", method=None,
       check=ValueCheck(_nan_operand, _illegal_argument, values_from=0,
                        reads=MATRIX_VALUES))
def linalg_lstsq(a, b, *, rcond=None):
    """The minimum-norm least-squares solution X of A X = B, singular values at or below
    rcond * largest taken as zero (rcond None: eps * max(m, n); 0: only exact zeros, the
    full-rank "gels" driver). Batches broadcast, as in PyTorch."""
    if a.dtype != b.dtype:     # JAX promoted; PyTorch refuses (dtypes are static)
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {torch_name(a.dtype)} and other's "
                           f"dtype {torch_name(b.dtype)}")
    m, n = a.shape[-2:]
    rcond = default_rtol(a.dtype, m, n) if rcond is None else float(rcond)
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = jnp.broadcast_to(a, batch + a.shape[-2:])
    b = jnp.broadcast_to(b, batch + b.shape[-2:])
    return _lstsq(a, b, rcond)
