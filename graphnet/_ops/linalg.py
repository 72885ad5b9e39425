"""Linear algebra ops: determinants, inverses and solves, factorizations (Cholesky, QR, SVD,
symmetric eigendecomposition) and the matrix exponential; pinv and least squares, which
drop small singular values, are in linalg_cutoffs.py; the solve and inverse from a Cholesky
factor in linalg_cholesky_factor.py.

Each kernel works on batches (leading dims) of matrices in the last two dims, like PyTorch.
The functions that check arguments and name the results are in graphnet/linalg.py.

NOTE: PyTorch's cholesky and eigh read only one triangle of the input (the lower one unless
`upper`/`UPLO="U"`) but return a symmetric gradient, as if the input were symmetric. The
kernels below do the same: the value comes from the chosen triangle mirrored
(`_one_triangle`), the gradient passes to the input unchanged and is symmetrised by JAX's
own rule (its `symmetrize_input` step)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ._dim_rules import scalar_as_one_element
from ._table import MATRIX_VALUES, ValueCheck, defop
from .distance import vector_norm
from .linalg_errors import NAN_SVD, LinAlgError, first_bad as _first_bad  # noqa: F401
from . import linalg_cholesky_factor  # noqa: F401  (registration: cholesky_solve, cholesky_inverse)
from . import linalg_cutoffs  # noqa: F401  (registration: pinv and lstsq)


def _zero_pivots(a, *_, **__):
    """A singular matrix: its LU factorization (partial pivoting, as LAPACK's getrf in both
    libraries) has a zero on U's diagonal."""
    if a.size == 0:
        return False, (0, 0)
    lu, _ = jsl.lu_factor(a)
    bad, batch, position = _first_bad(jnp.diagonal(lu, axis1=-2, axis2=-1) == 0)
    return bad, (batch, position)


SINGULAR_INV = ValueCheck(
    _zero_pivots,
    lambda facts, **_: LinAlgError(
        f"linalg.inv: The diagonal element {facts[1]} is zero, the inversion could not be "
        f"completed because the input matrix is singular."), values_from=0, reads=MATRIX_VALUES)
SINGULAR_SOLVE = ValueCheck(
    _zero_pivots,
    lambda facts, **_: LinAlgError("torch.linalg.solve: The solver failed because the input "
                                   "matrix is singular."), values_from=0, reads=MATRIX_VALUES)


def _not_positive_definite(a, upper=False):
    """A matrix with no Cholesky factor: JAX's is all NaN then. Eagerly the order of the
    first leading minor that is not positive-definite is found as PyTorch reports it."""
    if a.size == 0:
        return False, (0, 0)
    lower = jnp.linalg.cholesky(_one_triangle(jnp.asarray(a), upper))
    bad, batch, _ = _first_bad(jnp.isnan(jnp.diagonal(lower, axis1=-2, axis2=-1)))
    order = 0
    if isinstance(a, np.ndarray) and bool(bad):
        matrix = np.asarray(a).reshape((-1,) + a.shape[-2:])[int(batch)]
        matrix = np.triu(matrix) + np.triu(matrix, 1).T if upper else \
            np.tril(matrix) + np.tril(matrix, -1).T
        order = next((k for k in range(1, len(matrix) + 1)
                      if not _positive_definite(matrix[:k, :k])), 0)   # 0: not named
    return bad, (batch if a.ndim > 2 else -1, order)   # -1: not a batch


def _positive_definite(m) -> bool:
    try:
        np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return False
    return bool(np.isfinite(m).all())


def _cholesky_error(facts, **_):
    batch, order = facts[:2]
    which = f" (the leading minor of order {order} is not positive-definite)" if order else ""
    element = f"(Batch element {int(batch)}): " if int(batch) >= 0 else ""
    return LinAlgError(f"linalg.cholesky: {element}The factorization could not be completed "
                       f"because the input is not positive-definite{which}.")


NOT_POSITIVE_DEFINITE = ValueCheck(_not_positive_definite, _cholesky_error, values_from=0,
                                   reads=MATRIX_VALUES)




def _mT(a):
    return jnp.swapaxes(a, -1, -2)


def _batch_broadcast(a, b):
    """`a` and `b` with their batch dims (all but the last two) broadcast together."""
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return jnp.broadcast_to(a, batch + a.shape[-2:]), jnp.broadcast_to(b, batch + b.shape[-2:])


def _one_triangle(a, upper: bool):
    """`a` with its `upper` (or lower) triangle mirrored onto the other, for the value only:
    the gradient flows to `a` as if it were symmetric already."""
    tri = jnp.triu(a) if upper else jnp.tril(a)
    mirrored = tri + _mT(jnp.triu(a, 1) if upper else jnp.tril(a, -1))
    return a + jax.lax.stop_gradient(mirrored - a)


@defop("linalg_det", "opaque", function=("linalg.det", "det"), method=None)
def linalg_det(a):
    if a.shape[-1] == 0:   # 1 for each empty matrix; JAX's gradient rule indexed past it
        return jnp.ones(a.shape[:-2], a.dtype) + jnp.sum(a, axis=(-2, -1))
    return jnp.linalg.det(a)


@defop("linalg_slogdet", "opaque", n_outputs=2, function=("linalg.slogdet", "slogdet"),
       method=None)
def linalg_slogdet(a):
    sign, logabs = jnp.linalg.slogdet(a)
    return sign, logabs


@defop("linalg_inv", "opaque", check=SINGULAR_INV, function=("linalg.inv", "inverse"),
       method=None, backward="LinalgInvExBackward0")
def linalg_inv(a):
    return jnp.linalg.inv(a)


@defop("linalg_solve", "opaque", check=SINGULAR_SOLVE, function="linalg.solve",
       method=None, backward="LinalgSolveExBackward0")
def linalg_solve(a, b, *, left=True, vector=False):
    """A X = B (or X A = B with left=False); `vector`: B is a (batch of) vector(s)."""
    if not left:
        return _mT(linalg_solve(_mT(a), _mT(b), left=True))
    if vector:
        a, b = _batch_broadcast(a, b[..., None])
        return jnp.linalg.solve(a, b)[..., 0]
    return jnp.linalg.solve(*_batch_broadcast(a, b))


@defop("linalg_cholesky", "opaque", check=NOT_POSITIVE_DEFINITE,
       function=("linalg.cholesky", "cholesky"), method=None,
       backward="LinalgCholeskyExBackward0")
def linalg_cholesky(a, *, upper=False):
    lower = jnp.linalg.cholesky(_one_triangle(a, upper))
    return _mT(lower) if upper else lower


@defop("linalg_qr", "opaque", n_outputs=2, function=("linalg.qr", "qr"),
       method=None)
def linalg_qr(a, *, mode="reduced"):
    if mode == "r":
        return jnp.zeros((0,), a.dtype), _r_without_gradient(a)
    m, n = a.shape[-2:]
    if mode == "complete" and m > n:
        return _complete_tall_qr(a)
    q, r = jnp.linalg.qr(a, mode="reduced")
    return q, r


def _without_gradient(fn, message: str):
    """`fn` whose backward raises PyTorch's RuntimeError `message` (raised when the backward
    is traced: at `backward()` eagerly, when a compiled training step is traced)."""
    @jax.custom_vjp
    def refused(a):
        return fn(a)

    def backward(_, g):
        raise RuntimeError(message)

    refused.defvjp(lambda a: (fn(a), None), backward)
    return refused


# PyTorch's rule needs Q, which mode="r" does not compute: it refuses to differentiate R
# (JAX's R-only QR differentiated it anyway).
_r_without_gradient = _without_gradient(
    lambda a: jnp.linalg.qr(a, mode="r"),
    "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
    "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
# Q's extra columns of a tall matrix are any orthonormal completion: PyTorch refuses to
# differentiate the complete QR then (before, graphnet gave the extra columns no gradient).
_complete_tall_qr = _without_gradient(
    lambda a: tuple(jnp.linalg.qr(a, mode="complete")),
    "The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")


# NOTE: singular vectors (and eigenvectors) are unique only up to sign; JAX's LAPACK and
# PyTorch's may choose differently for the same matrix, as PyTorch documents for its own
# backends. Products like U diag(S) Vh, U[:, i] Vh[i], and the values, match.
@defop("linalg_svd", "opaque", n_outputs=3, function=("linalg.svd", "svd"),
       method=None, check=NAN_SVD)
def linalg_svd(a, *, full_matrices=True):
    u, s, vh = _reduced_svd(a)
    m, n = a.shape[-2:]
    if full_matrices and m != n:
        # JAX differentiates the reduced SVD only; the extra columns (any orthonormal
        # completion, as in PyTorch) get no gradient, which PyTorch documents too.
        uf, _, vhf = jnp.linalg.svd(jax.lax.stop_gradient(a), full_matrices=True)
        k = min(m, n)
        u = jnp.concatenate([u, uf[..., :, k:]], axis=-1)
        vh = jnp.concatenate([vh, vhf[..., k:, :]], axis=-2)
    return u, s, vh


# NOTE: JAX's SVD rule divides by s_j^2 - s_i^2, inf for a repeated singular value; eagerly
# the unused U and Vh get zero cotangents, not none, so `svd(I).S` gave a NaN gradient where
# PyTorch's is U diag(g_S) Vh. With U's and Vh's cotangents all zero that is the gradient;
# otherwise JAX's rule, as before.
@jax.custom_vjp
def _reduced_svd(a):
    return tuple(jnp.linalg.svd(a, full_matrices=False))


def _reduced_svd_fwd(a):
    out, pull = jax.vjp(lambda x: tuple(jnp.linalg.svd(x, full_matrices=False)), a)
    return out, (out, pull)


def _reduced_svd_bwd(residuals, cotangents):
    (u, _, vh), pull = residuals
    g_u, g_s, g_vh = cotangents
    values_only = u @ (g_s[..., :, None] * vh)
    full, = pull(cotangents)
    return (jnp.where(jnp.all(g_u == 0) & jnp.all(g_vh == 0), values_only, full),)


_reduced_svd.defvjp(_reduced_svd_fwd, _reduced_svd_bwd)


@defop("linalg_svdvals", "opaque", function="linalg.svdvals", method=None,
       backward="LinalgSvdBackward0", check=NAN_SVD)
def linalg_svdvals(a):
    return jnp.linalg.svd(a, compute_uv=False)


@defop("linalg_eigh", "opaque", n_outputs=2, function=("linalg.eigh", "linalg.eigvalsh"),
       method=None)
def linalg_eigh(a, *, upper=False):
    return _symmetric_eigh(_one_triangle(a, upper))


# NOTE: JAX's eigh rule scales the eigenvectors' cotangent by 1 / (w_j - w_i), inf for a
# repeated eigenvalue. Eagerly the eigenvectors' cotangent is zeros, not left out, when only
# the eigenvalues are used (eigvalsh), and inf * 0 made the gradient NaN where PyTorch's is
# V diag(g_w) V^T. Here an eigenvector cotangent of zeros gives that; any other divides by
# the gap, as in PyTorch (NaN or inf at a repeated eigenvalue, where the eigenvectors are not
# unique).
@jax.custom_vjp
def _symmetric_eigh(a):
    return tuple(jnp.linalg.eigh(a, symmetrize_input=False))


def _symmetric_eigh_fwd(a):
    w, v = _symmetric_eigh(a)
    return (w, v), (w, v)


def _symmetric_eigh_bwd(residuals, cotangents):
    w, v = residuals
    g_w, g_v = cotangents
    vt_gv = _mT(v) @ g_v
    skew = (vt_gv - _mT(vt_gv)) / 2
    eye = jnp.eye(w.shape[-1], dtype=w.dtype)
    gaps = w[..., None, :] - w[..., :, None] + eye   # w_j - w_i, 1 on the diagonal
    values = eye * g_w[..., None, :]
    # NOTE: the shortcut only for an eigenvector cotangent that is zero throughout (PyTorch
    # leaves it undefined: eigvalsh, or eigh's vectors unused). Taken per element before, it
    # wrote 0 for each 0 / 0 at a repeated eigenvalue: `sqrtm` via eigh of P P^T at P = I gave
    # P a gradient with no off-diagonal, finite and wrong, where PyTorch's is NaN
    inner = jnp.where(jnp.all(g_v == 0), values, skew / gaps + values)
    return (v @ inner @ _mT(v),)


_symmetric_eigh.defvjp(_symmetric_eigh_fwd, _symmetric_eigh_bwd)


@defop("linalg_solve_triangular", "opaque", function="linalg.solve_triangular",
       method=None)
def linalg_solve_triangular(a, b, *, upper, left=True, unitriangular=False):
    if not left:
        return _mT(linalg_solve_triangular(_mT(a), _mT(b), upper=not upper,
                                           unitriangular=unitriangular))
    # NOTE: PyTorch solves in A's dtype whatever B's (no promotion, no error)
    a, b = _batch_broadcast(a, b.astype(a.dtype))
    return jsl.solve_triangular(a, b, lower=not upper, unit_diagonal=unitriangular)


@defop("linalg_vector_norm", "reduction", function="linalg.vector_norm",
       method=None)
@scalar_as_one_element
def linalg_vector_norm(x, *, ord=2.0, dim=None, keepdim=False):
    """The `ord`-norm over `dim` with PyTorch's gradient (distance.vector_norm): 0 at a zero
    vector (not JAX's NaN from the square root), sign(0) = 0 for an entry at 0 of an L1 norm
    (jnp.abs gave 1), shared between the tied largest entries of an inf-norm."""
    return vector_norm(x, float(ord), dim, bool(keepdim))


@defop("linalg_matrix_exp", "opaque", function=("linalg.matrix_exp", "matrix_exp"),
       method=None)
def linalg_matrix_exp(a):
    return jsl.expm(a)
