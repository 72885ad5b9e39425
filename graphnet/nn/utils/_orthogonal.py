"""The maps behind parametrizations.orthogonal, written with graphnet ops (matrix_exp,
solve, QR and products of Householder reflections), so they run and differentiate in both
modes."""

from __future__ import annotations

import numpy as np

from ... import _factories as fac
from ... import _math as M
from ... import linalg
from ..._tensor import Tensor


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """torch.linalg.householder_product: the first k columns of H_1 ... H_k, where
    H_i = I - tau_i v_i v_i^H and v_i is column i of A below the diagonal with a 1 on it.
    NOTE: unrolled over the k columns; fine for the layer sizes parametrizations see."""
    n, k = A.shape[-2], A.shape[-1]
    rows = fac.arange(n)
    Q = fac.eye(n, k, dtype=A.dtype).expand(*A.shape[:-2], n, k)
    for i in reversed(range(k)):   # Q = H_i Q, from the last reflection to the first
        v = M.where(rows > i, A[..., :, i], M.where(rows == i, fac.ones((), dtype=A.dtype),
                                                      fac.zeros((), dtype=A.dtype)))
        v = v.unsqueeze(-1)                                          # [..., n, 1]
        t = tau[..., i].unsqueeze(-1).unsqueeze(-1)
        Q = Q - t * v.matmul(v.transpose(-2, -1).matmul(Q))
    return Q


def is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * float(np.finfo(np.dtype(str(Q.dtype).split(".")[-1])).eps)
    identity = fac.eye(k, dtype=Q.dtype)
    return bool((Q.transpose(-2, -1).matmul(Q) - identity).abs().max() <= eps)


def make_orthogonal(A: Tensor) -> Tensor:
    """Q of A's QR decomposition with R's diagonal made positive (PyTorch's choice), or A
    itself when it is already orthogonal."""
    if is_orthogonal(A):
        return A.clone()
    Q, R = linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


def orthogonal_forward(X: Tensor, kind: str, base: Tensor | None, trivialization: bool):
    """The orthogonal matrix the parametrization `kind` makes of X ([..., n, k])."""
    n, k = X.shape[-2], X.shape[-1]
    transposed = n < k
    if transposed:
        X = X.transpose(-2, -1)
        n, k = k, n
    if kind in ("matrix_exp", "cayley"):
        X = X.tril()
        if n != k:
            X = M.cat([X, fac.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)], dim=-1)
        A = X - X.transpose(-2, -1)
        if kind == "matrix_exp":
            Q = linalg.matrix_exp(A)
        else:
            identity = fac.eye(n, dtype=A.dtype)
            Q = linalg.solve(identity - 0.5 * A, identity + 0.5 * A)
        if n != k:
            Q = Q[..., :k]
    else:
        A = X.tril(diagonal=-1)
        tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
        Q = householder_product(A, tau)
        Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
    if trivialization:
        Q = base.matmul(Q)
    if transposed:
        Q = Q.transpose(-2, -1)
    return Q
