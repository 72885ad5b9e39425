"""`svd_lowrank` and `pca_lowrank`: randomized truncated SVD and PCA (Halko, Martinsson and
Tropp's range finder with `niter` subspace iterations), as `torch.svd_lowrank` and
`torch.pca_lowrank` compute them.

The random test matrix comes from graphnet's generator, so the results differ from
PyTorch's in what the random start leaves undetermined; for a matrix of rank <= q the
singular values and the product U diag(S) V^T agree with PyTorch's (and with the exact SVD)
up to rounding. Each step is an ordinary op, so both work eagerly and inside
`graphnet.compile`, batched over leading dimensions."""

from __future__ import annotations

from ._tensor import Tensor

__all__ = ["pca_lowrank", "svd_lowrank"]


def _floating(A: Tensor):
    """The dtype the random basis is drawn in: A's if floating, else float32 (PyTorch's)."""
    from . import _dtype as dt

    return A.dtype if A.dtype.is_floating_point else dt.float32


def _approximate_basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """An orthonormal (..., m, q) basis Q whose span approximates the range of A - M."""
    from . import linalg, randn

    R = randn(A.shape[-1], q, dtype=_floating(A), device=A.device)
    X = A.matmul(R) if M is None else A.matmul(R) - M.matmul(R)
    Q = linalg.qr(X).Q
    for _ in range(niter):   # NOTE: re-orthonormalise after each product, for accuracy
        X = A.mH.matmul(Q) if M is None else A.mH.matmul(Q) - M.mH.matmul(Q)
        Q = linalg.qr(X).Q
        X = A.matmul(Q) if M is None else A.matmul(Q) - M.matmul(Q)
        Q = linalg.qr(X).Q
    return Q


def _svd_lowrank(A: Tensor, q: int | None, niter: int | None,
                 M: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    from . import linalg

    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:   # work on the tall orientation: the basis is then the smaller side
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH.matmul(A) if M is None else Q.mH.matmul(A) - Q.mH.matmul(M)
    U, S, Vh = linalg.svd(B, full_matrices=False)
    U, V = Q.matmul(U), Vh.mH
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2,
                M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, V) with A - M ~ U diag(S) V^T, of rank q: U is (..., m, q), S (..., q), V
    (..., n, q). `niter` subspace iterations sharpen the approximation; `M` (broadcast to
    A's shape) is subtracted from A without forming A - M.

    >>> A = graphnet.randn(100, 3) @ graphnet.randn(3, 40)    # rank 3
    >>> U, S, V = graphnet.svd_lowrank(A, q=3)                # (U * S) @ V.mT ~ A
    """
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, V) of `svd_lowrank` on A with each column's mean removed (unless
    `center=False`): V's columns are the principal directions. `q` defaults to min(6, m, n).

    >>> U, S, V = graphnet.pca_lowrank(graphnet.randn(50, 8), q=2)
    >>> S.shape
    graphnet.Size([2])
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)
