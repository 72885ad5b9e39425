"""Singular-value cutoffs (graphnet/_ops/linalg_cutoffs.py) against PyTorch, eagerly and
compiled: lstsq's rcond per driver (solution, residuals, rank, singular values, gradients),
pinv's gradient when values are cut and its positional rcond, matrix_power(A, 0)'s grad."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch
from test_shape_extra_kit import check, raises_like

import graphnet


def r(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def near_rank_two(dtype=np.float64):
    """Two 5x3 matrices: the second's third column is nearly the sum of the others (its
    smallest singular value far below 1e-2 of the largest, the others far above)."""
    a = r(2, 5, 3)
    a[1, :, 2] = a[1, :, 0] + a[1, :, 1] + 1e-6 * r(5, seed=3)
    return a.astype(dtype)


DIAG = np.diag([1.0, 0.5, 0.05])
TINY_F32 = np.array([[1, 0], [0, 3e-6], [0, 0]], np.float32)
TINY_RHS = np.array([[1.0], [1], [0]], np.float32)


def lstsq_all(driver, rcond):
    def call(T, a, b):
        # NOTE: PyTorch's own gelsy (the default driver) reads an uninitialised pivot array,
        # so its rank can come out smaller at random (pytorch/pytorch#187411: [1, 0, 0] here
        # in one CI run); its solution and rank are taken from gelsd, whose cutoff is the
        # same (the solution's gradient is pinv's either way)
        out = T.linalg.lstsq(a, b, rcond=rcond, driver=driver)
        if T is torch and driver in (None, "gelsy"):
            cut = T.linalg.lstsq(a, b, rcond=rcond, driver="gelsd")
            return [cut.solution, out.residuals, cut.rank, out.singular_values]
        return [out.solution, out.residuals, out.rank, out.singular_values]
    return call


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss"])
def test_lstsq_rcond_cuts_small_singular_values_per_driver(driver):
    # 0.05 < 0.1 * 1 counts as zero (solution [1, 2, 0], rank 2) while the gradient is that
    # of pinv(A) @ B at the default cutoff. ("gels" ignores rcond: tested below.)
    check(lstsq_all(driver, 0.1), DIAG, np.ones((3, 1)), compiled=driver not in
          ("gelsd", "gelss"))
    check(lstsq_all(driver, 1e-2), near_rank_two(), r(2, 5, 2), atol=1e-6,
          compiled=driver not in ("gelsd", "gelss"))


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss", "gels"])
def test_lstsq_default_rcond_is_eps_times_size_not_jax_pinv_cutoff(driver):
    # 3e-6 is above eps(float32) * 3 = 3.6e-7: rank 2 and solution [1, 333333.3]. (The
    # gradients, near 1e11, cancel in float32; other tests compare gradients.)
    check(lstsq_all(driver, None), TINY_F32, TINY_RHS, rtol=1e-4, grads=False,
          compiled=driver not in ("gelsd", "gelss"))


def test_lstsq_wide_and_broadcast_batches():
    wide = np.swapaxes(near_rank_two(), -1, -2)
    check(lambda T, a, b: T.linalg.lstsq(a, b, rcond=1e-2).solution, wide, r(1, 3, 2),
          atol=1e-6)
    check(lambda T, a, b: T.linalg.lstsq(a, b, rcond=1e-2, driver="gelsd").solution, wide,
          r(2, 3), compiled=False, atol=1e-6)


PINV_CUTS = {
    "rtol": lambda T, a: T.linalg.pinv(a, rtol=0.1),
    "atol": lambda T, a: T.linalg.pinv(a, atol=0.2),
    "hermitian": lambda T, a: T.linalg.pinv(a @ a.mT, rtol=0.05, hermitian=True),
    "pinverse": lambda T, a: T.pinverse(a, rcond=0.1),
    "positional_rcond": lambda T, a: [T.linalg.pinv(a, 0.1), T.linalg.pinv(a, rcond=0.1),
                                      T.linalg.pinv(a @ a.mT, 0.05, True)],
}


@pytest.mark.parametrize("name", sorted(PINV_CUTS))
def test_pinv_gradient_with_cut_singular_values(name):
    a = np.array([[2.0, 0, 0, 0.1], [0, 1.0, 0.2, 0], [0, 0, 0.05, 0.01]])
    check(PINV_CUTS[name], a, atol=1e-6)
    check(PINV_CUTS[name], near_rank_two(np.float32), atol=1e-3, rtol=1e-3)


def test_pinv_rcond_with_atol_or_rtol_is_a_type_error():
    check(lambda T, a: T.linalg.pinv(a, 0.3), r(3, 3))
    raises_like(lambda T, a: T.linalg.pinv(a, 0.1, rtol=0.2), r(3, 3))
    raises_like(lambda T, a: T.linalg.pinv(a, 0.1, atol=0.2), r(3, 3))


def test_matrix_power_zero_keeps_the_graph_with_zero_gradient():
    check(lambda T, a: [T.linalg.matrix_power(a, 0), a.matrix_power(0) * 2], r(2, 3, 3))

    def grad_fn(a):
        return graphnet.linalg.matrix_power(a, 0).grad_fn is not None
    assert grad_fn(graphnet.tensor(r(3, 3), requires_grad=True))
