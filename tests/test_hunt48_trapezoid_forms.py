"""`trapezoid` / `cumulative_trapezoid` and `gradient` as PyTorch reads their arguments:
integer samples integrate in the default float dtype, exactly summed first (a float32 cast
lost float64's digits: 33554440 for torch's 33554438); a multi-dimensional `x` takes `dim`
as it is, with leading ones when it has fewer dims than `y` (it was lined up from the right:
a (4, 1) x of a (4,) y raised, a (2, 3, 4) x of a (3, 4) y ran); a number as `x` is
PyTorch's TypeError (it was read as `dx`); `gradient` refuses a repeated dim."""

import numpy as np
import pytest
import torch

import graphnet as gn

CASES = {
    "large integers": lambda L: L.trapezoid(L.tensor([16777217, 16777219, 16777221])),
    "integers, dx": lambda L: L.trapezoid(L.tensor([1, 2, 4]), dx=2),
    "integers, integer x": lambda L: L.trapezoid(L.tensor([1, 2, 4]), L.tensor([0, 1, 3])),
    "cumulative integers": lambda L: L.cumulative_trapezoid(L.tensor([1, 2, 4])),
    "column x": lambda L: L.trapezoid(L.tensor([1.0, 2, 4, 8]),
                                      L.tensor([[0.0], [1], [3], [4]])),
    "cumulative column x": lambda L: L.cumulative_trapezoid(
        L.tensor([1.0, 2, 4, 8]), L.tensor([[0.0], [1], [3], [4]])),
    "x of fewer dims": lambda L: L.trapezoid(L.arange(24.0).reshape(2, 3, 4),
                                             L.arange(12.0).reshape(3, 4), dim=1),
}


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_trapezoid_forms_match_torch(name, default):
    torch.set_default_dtype(getattr(torch, default))
    gn.set_default_dtype(getattr(gn, default))
    try:
        want = CASES[name](torch)
        for got in (CASES[name](gn), gn.compile(lambda: CASES[name](gn))()):
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    finally:
        torch.set_default_dtype(torch.float32)
        gn.set_default_dtype(gn.float32)


@pytest.mark.parametrize("call", [
    lambda L: L.trapezoid(L.ones(3, 4), L.ones(2, 3, 4), dim=1),
    lambda L: L.trapezoid(L.tensor([1.0, 2.0]), 2.0),
    lambda L: L.cumulative_trapezoid(L.tensor([1.0, 2.0]), 2.0),
    lambda L: L.gradient(L.ones(3, 4), dim=[1, -1]),
    lambda L: L.gradient(L.ones(3, 4), dim=(0, 0)),
])
def test_what_torch_refuses_is_refused(call):
    with pytest.raises((RuntimeError, TypeError)) as want:
        call(torch)
    with pytest.raises(want.type):
        call(gn)
