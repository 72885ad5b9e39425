"""Statistics (thirty-third session's statistics hunt): logcumsumexp's gradient behind a
+inf output is 0 (NaN at the inf), as PyTorch's rule gives (JAX's gave e^x-sized numbers);
cov of one variable is 0-d and refuses negative weights and a float correction; a float32
variance is taken in float64, so 1e-20-sized data has a finite std and 1e21-sized data no
inf; quantile of a 0-d input keeps no dim; norm(p=None) is the 2-norm."""

import numpy as np
import pytest
import torch

import graphnet as gn

_COMPILE = [lambda f: f, gn.compile]


@pytest.mark.parametrize("compile_", _COMPILE)
@pytest.mark.parametrize("row", [[float("inf"), 1.0, 2.0], [-float("inf"), 1.0, float("inf")],
                                 [0.5, -1.0, 2.0, 0.25]])
def test_logcumsumexp_gradient_as_torch(row, compile_):
    a = torch.tensor(row, requires_grad=True)
    (torch.logcumsumexp(a, 0) * torch.arange(1.0, len(row) + 1)).sum().backward()
    x = gn.tensor(row, requires_grad=True)
    compile_(lambda x: (gn.logcumsumexp(x, 0) * gn.arange(1.0, len(row) + 1)).sum())(x) \
        .backward()
    np.testing.assert_allclose(x.grad.numpy(), a.grad.numpy(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("compile_", _COMPILE)
def test_cov_of_one_row_is_zero_dimensional(compile_):
    d = [[1.0, 3.0, 2.0, 5.0]]
    assert compile_(gn.cov)(gn.tensor(d)).shape == torch.cov(torch.tensor(d)).shape == ()
    assert compile_(gn.corrcoef)(gn.tensor(d)).shape == ()


@pytest.mark.parametrize("compile_", _COMPILE)
@pytest.mark.parametrize("kind", ["fweights", "aweights"])
def test_cov_refuses_negative_weights(kind, compile_):
    x = gn.tensor([[1.0, 3.0, 2.0, 5.0], [0.5, 0.1, 0.7, 0.2]])
    w = gn.tensor([1, -1, 2, 1]) if kind == "fweights" else gn.tensor([1.0, -1.0, 2.0, 1.0])
    with pytest.raises(RuntimeError, match=f"{kind} cannot be negative"):
        compile_(lambda x, w: gn.cov(x, **{kind: w}))(x, w)
    w = gn.tensor([1, 1, 2, 1]) if kind == "fweights" else gn.tensor([1.0, 0.5, 2.0, 1.0])
    expected = torch.cov(torch.tensor(x.numpy()), **{kind: torch.tensor(w.numpy())})
    np.testing.assert_allclose(compile_(lambda x, w: gn.cov(x, **{kind: w}))(x, w).numpy(),
                               expected.numpy(), rtol=1e-6)


def test_cov_refuses_a_float_correction():
    with pytest.raises(TypeError, match="must be int, not float"):
        gn.cov(gn.ones(2, 3), correction=0.5)


@pytest.mark.parametrize("compile_", _COMPILE)
@pytest.mark.parametrize("values", [[1e-20, 3e-20, -2e-20, 0.5e-20], [1e21, -2e21, 3e21, 0.0]])
def test_float32_std_of_tiny_and_huge_values_is_finite_as_torch(values, compile_):
    a = torch.tensor(values, requires_grad=True)
    a.std().backward()
    x = gn.tensor(values, requires_grad=True)
    out = compile_(lambda x: x.std())(x)
    out.backward()
    np.testing.assert_allclose(out.item(), a.std().item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), a.grad.numpy(), rtol=1e-5)
    assert np.allclose(gn.std_mean(gn.tensor(values))[0].item(), a.std().item(), rtol=1e-6)


@pytest.mark.parametrize("q", [0.5, [0.25, 0.75]])
def test_quantile_of_a_zero_d_input_keeps_no_dim(q):
    expected = torch.quantile(torch.tensor(3.0), torch.tensor(q) if isinstance(q, list) else q,
                              dim=0, keepdim=True)
    got = gn.quantile(gn.tensor(3.0), gn.tensor(q) if isinstance(q, list) else q,
                      dim=0, keepdim=True)
    assert got.shape == expected.shape


def test_norm_p_none_is_the_two_norm():
    assert gn.norm(gn.tensor([3.0, 4.0]), p=None).item() == 5.0
