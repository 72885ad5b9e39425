"""Integer arithmetic and ranges as PyTorch does them, eagerly and compiled: an integer
division or remainder by zero raises (XLA returned -2 and 0), an integer tensor to a negative
integer power gives PyTorch's 0 / 1 / +-1 (XLA's gave -9223372036854775808), a negative
Python exponent raises; `arange` with a zero step or a step pointing away from its end
raises (it gave an empty tensor, or a ZeroDivisionError from Python); a class weight with the
wrong number of entries raises (nll_loss returned -1 with a weight of 4 for 3 classes)."""

import numpy as np
import pytest
from parity import np_of, torch

import graphnet

CALLS = {
    "floor_divide_by_zero_tensor": lambda lib: lib.tensor([4, 5]) // lib.tensor([0, 1]),
    "floor_divide_by_zero_number": lambda lib: lib.tensor([4]) // 0,
    "remainder_by_zero": lambda lib: lib.tensor([4, 5]) % lib.tensor([1, 0]),
    "fmod_by_zero": lambda lib: lib.tensor([4]).fmod(0),
    "rfloordiv_by_zero": lambda lib: 7 // lib.tensor([0]),
    "div_trunc_by_zero": lambda lib: lib.div(lib.tensor([4]), 0, rounding_mode="trunc"),
    "div_floor_by_zero": lambda lib: lib.div(lib.tensor([4]), lib.tensor([0]),
                                             rounding_mode="floor"),
    "inplace_floor_divide_by_zero": lambda lib: lib.tensor([7]).floor_divide_(lib.tensor([0])),
    "negative_number_power": lambda lib: lib.tensor([2, 3]) ** -1,
    "arange_zero_step": lambda lib: lib.arange(0, 5, 0),
    "arange_wrong_sign": lambda lib: lib.arange(0, 5, -1),
    "arange_backwards": lambda lib: lib.arange(5, 0, 1),
    "arange_infinite": lambda lib: lib.arange(0, float("inf")),
    "linspace_negative_steps": lambda lib: lib.linspace(0, 1, -1),
    "nll_weight_too_long": lambda lib: lib.nn.functional.nll_loss(
        lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(4)),
    "cross_entropy_weight_2d": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(2, 3)),
    "soft_cross_entropy_weight": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3), lib.ones(2, 3) / 3, weight=lib.ones(4)),
}


@pytest.mark.parametrize("name", CALLS)
def test_errors_match_torch(name):
    with pytest.raises(Exception) as want:
        CALLS[name](torch)
    with pytest.raises(Exception) as got:
        CALLS[name](graphnet)
    assert isinstance(got.value, type(want.value)), (type(got.value), type(want.value))
    assert str(got.value) == str(want.value).split("\n")[0]


VALUES = {
    "power_negative_tensor": lambda lib, a, b: lib.pow(a, b),
    "power_negative_number_base": lambda lib, a, b: 2 ** b,
    "power_zero_dim_negative": lambda lib, a, b: a ** b[4],
    "floor_divide": lambda lib, a, b: a // lib.where(b == 0, 3, b),
    "remainder_negative": lambda lib, a, b: a % lib.where(b == 0, -3, b),
    "arange_zero_dim_tensor": lambda lib, a, b: lib.arange(lib.tensor(3)) + 0 * a[:3],
}
BASE = np.array([2, 1, -1, 0, -2, 3, 5], np.int64)
EXPONENT = np.array([-1, -1, -3, 1, -2, 0, -2], np.int64)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", VALUES)
def test_values_match_torch(name, compiled):
    want = VALUES[name](torch, torch.tensor(BASE), torch.tensor(EXPONENT))
    fn = lambda a, b: VALUES[name](graphnet, a, b)  # noqa: E731
    got = (graphnet.compile(fn) if compiled else fn)(graphnet.tensor(BASE),
                                                     graphnet.tensor(EXPONENT))
    assert got.dtype.name == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(np_of(got), want.numpy())


def test_a_compiled_division_checks_its_inputs_and_what_it_computes():
    given = graphnet.compile(lambda a, b: a // b)
    computed = graphnet.compile(lambda a, b: a % (b - 1))
    assert given(graphnet.tensor([7]), graphnet.tensor([2])).tolist() == [3]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        given(graphnet.tensor([4]), graphnet.tensor([0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        computed(graphnet.tensor([4]), graphnet.tensor([1]))
    assert computed(graphnet.tensor([4]), graphnet.tensor([4])).tolist() == [1]
