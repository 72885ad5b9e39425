"""Rare pointwise functions at PyTorch's numbers and errors: `ldexp` exact for any integer
exponent (exp2 in float32 was off from 2**25 up and overflowed early), `hypot` / `logaddexp`
/ `logaddexp2` of an integer and a float tensor (promoted, as PyTorch's kernels are picked by
the result's dtype), and `trapezoid` refusing bool samples."""

import numpy as np
import pytest
import torch

import graphnet as gn


def test_ldexp_is_exact_for_large_integer_exponents():
    x = [1.0, 2.0 ** -100, 0.5, 3.0, 1.5, 1e-30]
    e = [30, 120, 128, -5, 200, -20]
    want = torch.ldexp(torch.tensor(x), torch.tensor(e)).numpy()
    for fn in (gn.ldexp, gn.compile(gn.ldexp)):
        np.testing.assert_array_equal(fn(gn.tensor(x), gn.tensor(e)).numpy(), want)
    np.testing.assert_allclose(gn.ldexp(gn.tensor([1.0]), gn.tensor([2.5])).numpy(),
                               torch.ldexp(torch.tensor([1.0]), torch.tensor([2.5])).numpy())


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "logaddexp2"])
def test_integer_and_float_operands_promote_as_in_torch(name):
    a, b = [3, 4], [4.0, 3.0]
    want = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    for fn in (getattr(gn, name), gn.compile(getattr(gn, name))):
        got = fn(gn.tensor(a), gn.tensor(b))
        assert got.dtype == gn.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    for lib in (torch, gn):
        with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented'):
            getattr(lib, name)(lib.tensor(a), lib.tensor([4, 3]))


@pytest.mark.parametrize("name", ["trapezoid", "cumulative_trapezoid"])
def test_trapezoid_refuses_bool_samples(name):
    for lib in (torch, gn):
        with pytest.raises(RuntimeError, match="bool is not supported"):
            getattr(lib, name)(lib.tensor([True, False, True]))
