"""A MultivariateNormal with a covariance that is not positive-definite raises PyTorch's
ValueError in a compiled function too: the program factored the unchecked input, whose own
LinAlgError (checked on the input before the program ran) came first."""

import numpy as np
import pytest
import torch

import graphnet

BAD = [[1.0, 2.0], [2.0, 1.0]]
GOOD = [[2.0, 0.5], [0.5, 1.0]]


def _log_prob(lib, cov, **kw):
    return lib.distributions.MultivariateNormal(lib.zeros(2), covariance_matrix=cov,
                                                **kw).log_prob(lib.ones(2))


def test_compiled_bad_covariance_raises_value_error():
    # validate_args given: another test may have turned the default off in this process
    with pytest.raises(ValueError, match="PositiveDefinite"):
        _log_prob(torch, torch.tensor(BAD), validate_args=True)
    with pytest.raises(ValueError, match="PositiveDefinite"):
        graphnet.compile(lambda c: _log_prob(graphnet, c, validate_args=True))(
            graphnet.tensor(BAD))


@pytest.mark.parametrize("which", ["covariance_matrix", "precision_matrix"])
def test_compiled_good_matrix_gives_torch_values_and_gradients(which):
    results = []
    for lib, compiled in ((torch, False), (graphnet, True)):
        m = lib.tensor(GOOD, requires_grad=True)

        def f(m):
            d = lib.distributions.MultivariateNormal(
                lib.zeros(3, 2), **{which: m})          # a batch: the matrix is expanded
            lp = d.log_prob(lib.ones(3, 2)).sum()
            lp.backward()
            return lp, d.scale_tril

        out = (graphnet.compile(f) if compiled else f)(m)
        results.append((out[0].item(), out[1].detach().numpy(), m.grad.numpy()))
    for g, w in zip(results[1], results[0]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
