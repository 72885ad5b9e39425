"""A float32 cumsum/cumprod accumulates in float64 on the CPU, as PyTorch's CPU kernel does
(thirty-fourth session's survival hunt): in float32, 72% of a 100000-element cumsum was an
ulp or more off PyTorch's, and DeepHit's `log(1 - cdf[-1] + 1e-7)` of a normalised cdf was
NaN where PyTorch's is finite."""

import numpy as np
import pytest
import torch

import graphnet as gn

_COMPILE = pytest.mark.parametrize("compile_", [lambda f: f, gn.compile],
                                   ids=["dynamic", "static"])


@_COMPILE
def test_cumsum_and_cumprod_equal_torchs_bit_for_bit(compile_):
    values = np.random.RandomState(0).rand(2, 20000).astype(np.float32)
    np.testing.assert_array_equal(compile_(lambda x: x.cumsum(1))(gn.tensor(values)).numpy(),
                                  torch.tensor(values).cumsum(1).numpy())
    factors = values[:, :80] + 0.5
    np.testing.assert_array_equal(compile_(lambda x: x.cumprod(1))(gn.tensor(factors)).numpy(),
                                  torch.tensor(factors).cumprod(1).numpy())


@_COMPILE
def test_a_normalised_cdf_ends_where_torchs_does(compile_):
    p = [0.0951734185218811, 0.06065002828836441, 0.06900494545698166, 0.7500023245811462,
         0.025169340893626213]
    # NOTE: the gap itself, not `log(gap + 1e-7)`: XLA folds `(1 - c) + 1e-7` into
    # `1.0000001 - c` when compiled, which is another rounding (XLA's, left as it is)
    expected = 1 - torch.tensor(p).cumsum(0)[-1]
    got = compile_(lambda t: 1 - t.cumsum(0)[-1])(gn.tensor(p))
    assert float(got) == float(expected) == 0.0


@_COMPILE
def test_the_gradient_and_dtypes_still_follow_torch(compile_):
    values = np.random.RandomState(1).rand(500).astype(np.float32)
    x0 = torch.tensor(values, requires_grad=True)
    (x0.cumsum(0) * torch.tensor(values)).sum().backward()
    x = gn.tensor(values, requires_grad=True)
    compile_(lambda x: (x.cumsum(0) * gn.tensor(values)).sum())(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), x0.grad.numpy(), rtol=1e-6)
    assert compile_(lambda t: t.cumsum(0, dtype=gn.float32))(gn.arange(5)).dtype == gn.float32
    assert compile_(lambda t: t.cumsum(0))(gn.arange(5)).dtype == gn.int64
