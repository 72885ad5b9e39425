"""Distributions against PyTorch: `expand` of the ones that wrap another distribution,
`validate_args` checks of log_prob/cdf values, `mode`, `enumerate_support`, Uniform.icdf
and Gamma.cdf, eagerly and compiled (value checks are eager only, as documented)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_shape_extra_kit import check

import graphnet

D = {torch: torch.distributions, graphnet: graphnet.distributions}
PROBS = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]], np.float32)


def _errors(make, value):
    """The exception type and message of `make(T).log_prob(value)` for torch and graphnet."""
    out = []
    for T in (torch, graphnet):
        with pytest.raises(Exception) as info:
            make(T)(T.tensor(value))
        out.append((type(info.value), str(info.value)[:40]))
    return out


BAD_VALUES = {
    "normal_nan": (lambda T: D[T].Normal(0.0, 1.0).log_prob, np.float32("nan")),
    "normal_cdf_nan": (lambda T: D[T].Normal(0.0, 1.0).cdf, np.float32("nan")),
    "bernoulli_half": (lambda T: D[T].Bernoulli(probs=T.tensor(0.3)).log_prob,
                       np.float32(0.5)),
    "uniform_outside": (lambda T: D[T].Uniform(0.0, 1.0).log_prob, np.float32(1.5)),
    "uniform_cdf_outside": (lambda T: D[T].Uniform(0.0, 1.0).cdf, np.float32(-0.5)),
    "categorical_range": (lambda T: D[T].Categorical(logits=T.zeros(3)).log_prob,
                          np.int64(3)),
    "categorical_negative": (lambda T: D[T].Categorical(logits=T.zeros(3)).log_prob,
                             np.int64(-1)),
    "one_hot_not_one_hot": (lambda T: D[T].OneHotCategorical(probs=T.ones(3) / 3).log_prob,
                            np.array([1.0, 1.0, 0.0], np.float32)),
    "normal_shape": (lambda T: D[T].Normal(T.zeros(3), T.ones(3)).log_prob,
                     np.zeros(2, np.float32)),
    "independent_shape": (lambda T: D[T].Independent(D[T].Normal(T.zeros(3), T.ones(3)),
                                                      1).log_prob, np.zeros(2, np.float32)),
    "gamma_cdf_negative": (lambda T: D[T].Gamma(T.tensor(1.0), T.tensor(2.0)).cdf,
                           np.float32(-1.0)),
}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_value_outside_support_or_shape_raises_value_error_as_torch(name):
    (t_type, t_msg), (g_type, g_msg) = _errors(*BAD_VALUES[name])
    assert t_type is ValueError and g_type is ValueError
    assert g_msg == t_msg


WRAPPERS = {
    "one_hot": lambda T, p: D[T].OneHotCategorical(p),
    "categorical": lambda T, p: D[T].Categorical(p),
    "independent_one_hot": lambda T, p: D[T].Independent(D[T].OneHotCategorical(p), 1),
    "relaxed_one_hot": lambda T, p: D[T].RelaxedOneHotCategorical(T.tensor(0.5), p),
    "mixture": lambda T, p: D[T].MixtureSameFamily(
        D[T].Categorical(p), D[T].Normal(T.zeros(4), T.ones(4)).expand((2, 4))),
}


@pytest.mark.parametrize("name", ["one_hot", "independent_one_hot"])
def test_expand_reaches_the_wrapped_distribution(name):
    # The other wrappers expanded right already; they are checked with these two.
    for other in ("categorical", "relaxed_one_hot", "mixture"):
        _check_expand(other)
    _check_expand(name)


def _check_expand(name):
    make = WRAPPERS[name]

    def call(T, p):
        d = make(T, p)
        big = d.expand((3,) + tuple(d.batch_shape))
        value = big.sample((2,))
        out = [T.tensor(tuple(value.shape)), T.tensor(tuple(big.batch_shape))]
        if name not in ("relaxed_one_hot", "mixture"):   # no entropy in either library
            out.append(big.entropy())
        if name == "one_hot":
            out.append(big.log_prob(T.eye(4)[T.tensor([[0, 1], [3, 2], [1, 1]])]))
        return out
    check(call, PROBS, compiled=name == "one_hot", atol=1e-6)


MODES = {
    "categorical_ties": lambda T, p: D[T].Categorical(probs=p).mode,
    "one_hot_ties": lambda T, p: D[T].OneHotCategorical(probs=p).mode,
    "bernoulli_half": lambda T, p: D[T].Bernoulli(probs=p[0]).mode,
    "uniform": lambda T, p: D[T].Uniform(p[0], p[0] + 1).mode,
    "independent": lambda T, p: D[T].Independent(D[T].Bernoulli(probs=p), 1).mode,
}


@pytest.mark.parametrize("name", sorted(MODES))
def test_mode(name):
    probs = np.array([[0.3, 0.5, 0.5, 0.2], [0.25, 0.6, 0.1, 0.6]], np.float32)
    check(MODES[name], probs, grads=False)


def test_enumerate_support():
    check(lambda T, p: [D[T].Bernoulli(probs=p[:, 0]).enumerate_support(),
                        D[T].Bernoulli(probs=p[:, 0]).enumerate_support(expand=False),
                        D[T].OneHotCategorical(p).enumerate_support(),
                        D[T].OneHotCategorical(p).enumerate_support(expand=False),
                        T.tensor([D[T].Bernoulli(0.3).has_enumerate_support,
                                  D[T].OneHotCategorical(p).has_enumerate_support,
                                  D[T].Normal(0.0, 1.0).has_enumerate_support])],
          PROBS, grads=False)


def test_uniform_icdf_and_gamma_cdf_values_and_gradients():
    check(lambda T: D[T].Uniform(0.0, 1.0, validate_args=False).log_prob(
        T.tensor([1.5, 0.5])), compiled=False)   # no value check asked for: none made
    check(lambda T, low, q: D[T].Uniform(low, low + 2).icdf(q), np.float32([0.0, -1.0, 3.0]),
          np.float32([0.1, 0.5, 0.9]))
    check(lambda T, rate, x: D[T].Gamma(T.tensor([2.0, 0.5, 3.0]), rate).cdf(x),
          np.float32([1.0, 4.0, 0.5]), np.float32([0.5, 3.0, 2.0]), atol=1e-6)
    check(lambda T, c, x: D[T].Chi2(c).cdf(x), np.float32([1.0, 4.0]),
          np.float32([0.5, 3.0]), grads=False)
