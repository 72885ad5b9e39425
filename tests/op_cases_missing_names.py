"""Parity cases of the ops behind names a sweep found missing: `index_reduce`
(graphnet/_index_reduce.py) and the LU / cholesky_ex factorizations (graphnet/_linalg_lu.py,
graphnet/_linalg_ex.py). Errors, ties, singular matrices and the memory formats, gradient and
prune are in tests/test_missing_names.py."""

from __future__ import annotations

import numpy as np
from op_case_kit import Case, fixed, randn


def _well(T, a):
    return a + 4 * T.eye(a.shape[-1])


def _spd(T, a):
    return a @ a.mT + 3 * T.eye(a.shape[-1])


def _index_reduce(T, x, index, source):
    return (x.index_reduce(1, index, source, "amax", include_self=False)
            + T.index_reduce(x, 1, index, source, "prod")
            + x.index_reduce(1, index, source, "mean") * x.index_reduce(1, index, source, "amin"))


def _lu_family(T, a, b):
    LU, pivots, info = T.linalg.lu_factor_ex(_well(T, a))
    return LU, pivots, info, T.linalg.lu_solve(LU, pivots, b, adjoint=True), \
        T.linalg.solve_ex(_well(T, a), b).result, T.linalg.inv_ex(_well(T, a)).inverse


CASES = {
    "index_reduce": Case(_index_reduce, (randn(3, 4), fixed(np.array([0, 2, 0, 3, 2]), np.int64),
                                         randn(3, 5))),
    "linalg_lu_factor_ex": Case(_lu_family, (randn(2, 3, 3), randn(3, 2)), atol=1e-4,
                                rtol=1e-4),
    "lu_pivots_to_permutation": Case(lambda T, a: T.lu_unpack(*T.linalg.lu_factor(a)),
                                     (randn(4, 4),), atol=1e-4, rtol=1e-4),
    "linalg_cholesky_ex": Case(lambda T, a: T.linalg.cholesky_ex(_spd(T, a), upper=True),
                               (randn(2, 3, 3),), atol=1e-4, rtol=1e-4),
}
