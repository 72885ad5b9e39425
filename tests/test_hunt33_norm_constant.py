"""Layer and group norm of a constant input are exactly 0, as PyTorch's (thirty-third
session's diffusion hunt): the float32 mean, a product with the rounded 1/n, was an ulp off,
and the normalisation scaled that by 1/sqrt(eps) to about 2e-3."""

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
@pytest.mark.parametrize("value", [7.3, 3.0, 0.1, -123.456])
@pytest.mark.parametrize("norm", [
    lambda F, x: F.group_norm(x, 2),
    lambda F, x: F.layer_norm(x, (4, 5, 6)),
    lambda F, x: F.layer_norm(x, (6,)),
])
def test_norm_of_a_constant_is_zero(norm, value, compile_):
    x = np.full((2, 4, 5, 6), value, np.float32)
    expected = norm(torch.nn.functional, torch.tensor(x)).numpy()
    got = compile_(lambda a: norm(gn.nn.functional, a))(gn.tensor(x)).numpy()
    assert np.abs(expected).max() == 0.0
    assert np.abs(got).max() == 0.0


def test_norm_gradients_still_match_torch():
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32) * 3 + 40
    a = torch.tensor(x, requires_grad=True)
    (torch.nn.functional.layer_norm(a, (5,)) ** 3).sum().backward()
    b = gn.tensor(x, requires_grad=True)
    (gn.nn.functional.layer_norm(b, (5,)) ** 3).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-4, atol=1e-5)
