"""The eager value checks of linear algebra (not positive-definite, singular) run in 64-bit
mode, as the op itself: they called jax.numpy on a float64 matrix read as float32, and
refused matrices PyTorch factors. A GP's Gram matrix with 1e-8 jitter raised a bare
StopIteration from cholesky, and a nearly singular float64 matrix "is singular" in inv."""

import numpy as np
import pytest
import torch

import graphnet


def _gram(lib):
    xs = lib.tensor(np.linspace(0, 1, 40)[:, None], dtype=lib.float64)
    return lib.exp(-0.5 * lib.cdist(xs, xs) ** 2 / 0.3 ** 2) + 1e-8 * lib.eye(40, dtype=lib.float64)


@pytest.mark.parametrize("compiled", [False, True])
def test_cholesky_of_a_jittered_float64_gram_matrix(compiled):
    want = torch.linalg.cholesky(_gram(torch)).diagonal().log().sum().item()

    def f(k):
        return graphnet.linalg.cholesky(k).diagonal().log().sum()

    if compiled:
        f = graphnet.compile(f)
    assert f(_gram(graphnet)).item() == pytest.approx(want, rel=1e-8)


NEARLY_SINGULAR = [[1.0, 1.0], [1.0, 1.0 + 1e-10]]


def test_inv_and_solve_of_a_nearly_singular_float64_matrix():
    a_t = torch.tensor(NEARLY_SINGULAR, dtype=torch.float64)
    a_g = graphnet.tensor(NEARLY_SINGULAR, dtype=graphnet.float64)
    np.testing.assert_allclose(graphnet.linalg.inv(a_g).numpy(), torch.linalg.inv(a_t).numpy(),
                               rtol=1e-5)
    b_t, b_g = torch.ones(2, dtype=torch.float64), graphnet.ones(2, dtype=graphnet.float64)
    np.testing.assert_allclose(graphnet.linalg.solve(a_g, b_g).numpy(),
                               torch.linalg.solve(a_t, b_t).numpy(), rtol=1e-5, atol=1e-9)


def test_the_errors_stay_for_matrices_that_are_bad_in_float64():
    with pytest.raises(graphnet.linalg.LinAlgError, match="singular"):
        graphnet.linalg.inv(graphnet.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=graphnet.float64))
    with pytest.raises(graphnet.linalg.LinAlgError, match="leading minor of order 2"):
        graphnet.linalg.cholesky(graphnet.tensor([[1.0, 2.0], [2.0, 1.0]],
                                                 dtype=graphnet.float64))
