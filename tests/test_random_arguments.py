"""Bad arguments to random draws raise PyTorch's errors, eagerly and compiled, instead of
drawing silently from a nonsense distribution (before: `randint(5, 2)` gave fives,
`bernoulli(1.5)` ones, `multinomial` of negative or all-zero weights an index, `rand(-1)` an
MLIR error). Number arguments are checked in Python; tensor arguments (probabilities, std,
rates) by the `checked_parameters` op's value check, so a compiled call checks its inputs
on the host and a computed value inside the program."""

import numpy as np
import pytest
from parity import torch

import graphnet

NAN = float("nan")

CALLS = {
    "randint_empty_range": lambda lib: lib.randint(5, 2, (3,)),
    "randint_high_zero": lambda lib: lib.randint(0, (3,)),
    "random__empty_range": lambda lib: lib.zeros(2).random_(5, 2),
    "normal_negative_std": lambda lib: lib.normal(0.0, -1.0, (2,)),
    "normal_tensor_mean_negative_std": lambda lib: lib.normal(lib.zeros(2), -1.0),
    "normal_negative_std_tensor": lambda lib: lib.normal(lib.zeros(2), -lib.ones(2)),
    "normal__negative_std": lambda lib: lib.zeros(2).normal_(0, -1),
    "uniform__reversed": lambda lib: lib.zeros(2).uniform_(2, 1),
    "bernoulli_above_one": lambda lib: lib.bernoulli(lib.full((2,), 1.5)),
    "bernoulli_below_zero": lambda lib: lib.bernoulli(lib.full((2,), -0.1)),
    "bernoulli__number": lambda lib: lib.zeros(2).bernoulli_(1.5),
    "bernoulli__tensor": lambda lib: lib.zeros(2).bernoulli_(lib.full((2,), 2.0)),
    "multinomial_negative": lambda lib: lib.multinomial(lib.tensor([0.5, -0.1]), 1),
    "multinomial_nan": lambda lib: lib.multinomial(lib.tensor([NAN, 1.0]), 1),
    "multinomial_inf": lambda lib: lib.multinomial(lib.tensor([float("inf"), 1.0]), 1),
    "multinomial_no_mass": lambda lib: lib.multinomial(lib.tensor([[1.0, 1.0], [0.0, 0.0]]), 1),
    "multinomial_replacement_no_mass": lambda lib: lib.multinomial(lib.zeros(3), 2, True),
    "poisson_negative_rate": lambda lib: lib.poisson(-lib.ones(2)),
    "exponential__zero": lambda lib: lib.zeros(2).exponential_(0),
    "geometric__zero": lambda lib: lib.zeros(2).geometric_(0),
    "geometric__above_one": lambda lib: lib.zeros(2).geometric_(1.5),
    "cauchy__zero_sigma": lambda lib: lib.zeros(2).cauchy_(0, 0),
    "log_normal__zero_std": lambda lib: lib.zeros(2).log_normal_(1, 0),
    "randperm_negative": lambda lib: lib.randperm(-1),
    "rand_negative": lambda lib: lib.rand(-1),
    "zeros_negative": lambda lib: lib.zeros(2, -3),
    "full_negative": lambda lib: lib.full((-1,), 2.0),
}


def _error(fn, lib):
    with pytest.raises(Exception) as caught:
        fn(lib)
    return caught.value


@pytest.mark.parametrize("name", CALLS)
def test_eager_errors_match_torch(name):
    want, got = _error(CALLS[name], torch), _error(CALLS[name], graphnet)
    assert isinstance(got, type(want)), (type(got), type(want))
    assert str(got) == str(want).splitlines()[0].split("  (Could this")[0]


@pytest.mark.parametrize("make,rule", [
    (lambda p: graphnet.bernoulli(p), "Expected p_in >= 0 && p_in <= 1"),
    (lambda p: graphnet.multinomial(p, 1), "contains either `inf`, `nan` or element < 0"),
    (lambda p: graphnet.poisson(p), "invalid Poisson rate"),
    (lambda p: graphnet.normal(graphnet.zeros(2), p), "normal expects all elements of std"),
])
def test_compiled_calls_check_inputs_and_computed_values(make, rule):
    given = graphnet.compile(make)
    computed = graphnet.compile(lambda p: make(p - 2))   # a value the program computes
    assert np.isfinite(given(graphnet.full((2,), 0.5)).numpy()).all()   # valid: it draws
    with pytest.raises(RuntimeError, match=rule.replace("(", r"\(")):
        given(graphnet.tensor([0.5, -1.0]))
    with pytest.raises(RuntimeError, match=rule.replace("(", r"\(")):
        computed(graphnet.full((2,), 0.5))


def test_valid_parameters_still_draw():
    graphnet.manual_seed(0)
    assert set(np.unique(graphnet.bernoulli(graphnet.full((400,), 0.5)).numpy())) == {0.0, 1.0}
    rows = graphnet.multinomial(graphnet.tensor([[0.0, 1.0], [1.0, 0.0]]), 1).numpy()
    np.testing.assert_array_equal(rows, [[1], [0]])
    assert graphnet.randint(3, 4, (5,)).tolist() == [3] * 5
    assert graphnet.zeros(2).uniform_(1.0, 1.0).tolist() == [1.0, 1.0]
    assert graphnet.normal(graphnet.zeros(3), graphnet.zeros(3)).tolist() == [0.0] * 3
    assert graphnet.poisson(graphnet.zeros(2)).tolist() == [0.0, 0.0]
    assert tuple(graphnet.rand(0, 3).shape) == (0, 3)
