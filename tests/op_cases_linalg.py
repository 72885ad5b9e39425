"""Parity cases of the linear algebra ops (graphnet/_ops/linalg.py). Inputs are shaped so the
answer is unique (positive-definite matrices for cholesky, well-conditioned ones elsewhere)
and built inside the call, so the gradient flows back through that construction too.
More cases (errors, batches, every ord of the norms) are in tests/test_linalg.py."""

from __future__ import annotations

from op_case_kit import Case, randn


def spd(T, a):
    """A symmetric positive-definite matrix (batch) from any square `a`."""
    return a @ a.mT + 3 * T.eye(a.shape[-1])


def well(T, a):
    """A well-conditioned square matrix (batch): `a` plus a strong diagonal."""
    return a + 4 * T.eye(a.shape[-1])


def _sign_free_svd(usv):
    """S and each U[:, i] Vh[i] outer product: singular vectors are unique up to sign only,
    and two LAPACKs may pick differently."""
    u, s, vh = usv
    return s, u.unsqueeze(-1) * vh.unsqueeze(-3)


CASES = {
    "linalg_det": Case(lambda T, a: T.linalg.det(well(T, a)) + T.det(a), (randn(2, 3, 3),),
                       atol=1e-4, rtol=1e-4),
    "linalg_slogdet": Case(lambda T, a: T.linalg.slogdet(a), (randn(2, 4, 4),), atol=1e-4),
    "linalg_inv": Case(lambda T, a: T.linalg.inv(well(T, a)), (randn(2, 3, 3),), atol=1e-5),
    "linalg_solve": Case(lambda T, a, b: T.linalg.solve(well(T, a), b), (randn(2, 3, 3),
                                                                          randn(3, 2))),
    "linalg_cholesky": Case(lambda T, a: T.linalg.cholesky(spd(T, a)) + T.linalg.cholesky(
        spd(T, a), upper=True), (randn(2, 3, 3),), atol=1e-4, rtol=1e-4),
    "cholesky_solve": Case(lambda T, b, a: T.cholesky_solve(b, T.linalg.cholesky(spd(T, a))),
                           (randn(3, 2), randn(3, 3)), atol=1e-4, rtol=1e-4),
    "cholesky_inverse": Case(lambda T, a: T.cholesky_inverse(T.linalg.cholesky(spd(T, a))),
                             (randn(3, 3),), atol=1e-4, rtol=1e-4),
    "linalg_qr": Case(lambda T, a: T.linalg.qr(a), (randn(2, 5, 3),), atol=1e-4, rtol=1e-4),
    "linalg_svd": Case(lambda T, a: _sign_free_svd(T.linalg.svd(a, full_matrices=False)),
                       (randn(4, 3),), atol=1e-4, rtol=1e-4),
    "linalg_svdvals": Case(lambda T, a: T.linalg.svdvals(a), (randn(2, 3, 5),), atol=1e-4),
    "linalg_eigh": Case(lambda T, a: T.linalg.eigh(spd(T, a)), (randn(4, 4),), atol=1e-4,
                        rtol=1e-4),
    "linalg_solve_triangular": Case(
        lambda T, a, b: T.linalg.solve_triangular(well(T, a), b, upper=True)
        + T.linalg.solve_triangular(well(T, a), b.mT, upper=False, left=False).mT,
        (randn(3, 3), randn(3, 3)), atol=1e-5),
    "linalg_lstsq": Case(lambda T, a, b: T.linalg.lstsq(a, b).solution, (randn(5, 3),
                                                                         randn(5, 2)),
                         atol=1e-4, rtol=1e-4),
    "linalg_pinv": Case(lambda T, a: T.linalg.pinv(a), (randn(4, 3),), atol=1e-4, rtol=1e-4),
    "linalg_vector_norm": Case(lambda T, x: T.linalg.vector_norm(x) + T.linalg.vector_norm(
        x, 3, dim=1).sum() + T.linalg.vector_norm(x, float("inf")), (randn(3, 4),)),
    "linalg_matrix_exp": Case(lambda T, a: T.linalg.matrix_exp(a), (randn(2, 3, 3),),
                              atol=1e-4, rtol=1e-4),
}
