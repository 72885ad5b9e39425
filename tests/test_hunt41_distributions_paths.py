"""torch.distributions as user code imports it: the submodule paths (`.normal`, `.kl`,
`.utils` ...), the helpers of `.utils`, `ExponentialFamily` for user-written families
(entropy and KL from the log-normalizer), the parameter check of a user subclass's
`arg_constraints` at construction, and `_get_checked_instance` for its `expand`."""
import importlib

import numpy as np
import pytest
import torch

import graphnet as G

PATHS = ["normal", "categorical", "bernoulli", "kl", "distribution", "utils", "exp_family",
         "multivariate_normal", "independent", "mixture_same_family", "relaxed_categorical",
         "transformed_distribution", "one_hot_categorical", "constraint_registry", "studentT"]


@pytest.mark.parametrize("path", PATHS)
def test_torch_submodule_paths_import(path):
    want = importlib.import_module(f"torch.distributions.{path}")
    got = importlib.import_module(f"graphnet.distributions.{path}")
    names = want.__all__
    for name in names:
        assert hasattr(got, name), name
    if path not in ("utils", "kl", "constraint_registry"):
        assert getattr(got, names[0]) is getattr(G.distributions, names[0])


def test_utils_helpers_match_torch():
    tu, gu = torch.distributions.utils, importlib.import_module("graphnet.distributions.utils")
    p = np.array([[0.2, 0.8], [0.0, 1.0]], np.float32)
    for binary in (False, True):
        np.testing.assert_allclose(gu.probs_to_logits(G.tensor(p), binary).numpy(),
                                   tu.probs_to_logits(torch.tensor(p), binary).numpy(),
                                   rtol=1e-6)
        np.testing.assert_allclose(gu.logits_to_probs(G.tensor(p), binary).numpy(),
                                   tu.logits_to_probs(torch.tensor(p), binary).numpy(),
                                   rtol=1e-6)
    np.testing.assert_array_equal(gu.clamp_probs(G.tensor(p)).numpy(),
                                  tu.clamp_probs(torch.tensor(p)).numpy())
    a, b = gu.broadcast_all(G.tensor([1.0, 2.0], dtype=G.float64), 3)
    assert a.shape == b.shape == (2,) and b.dtype == G.float64 and b.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="numbers.Number"):
        gu.broadcast_all(G.ones(2), "x")

    calls = []

    class Holder:
        @gu.lazy_property
        def value(self):
            calls.append(1)
            return 7

    h = Holder()
    assert (h.value, h.value, len(calls)) == (7, 7, 1)


def _exponential_family(lib):
    """The exponential distribution written as a user's exponential family."""
    class Exp(lib.distributions.ExponentialFamily):
        arg_constraints = {"rate": lib.distributions.constraints.positive}

        def __init__(self, rate, validate_args=None):
            self.rate = rate
            super().__init__(rate.shape, validate_args=validate_args)

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, x):
            return -(-x).log()

        @property
        def _mean_carrier_measure(self):
            return 0

    return Exp


@pytest.mark.parametrize("static", [False, True])
def test_user_exponential_family_entropy_and_kl(static):
    rates = np.array([0.5, 2.0, 3.0], np.float32)
    want = {}
    Exp = _exponential_family(torch)
    p, q = Exp(torch.tensor(rates)), Exp(torch.tensor(rates[::-1].copy(), requires_grad=True))
    kl = torch.distributions.kl_divergence(p, q)
    want = (p.entropy(), kl, torch.autograd.grad(kl.sum(), q.rate)[0])
    Exp = _exponential_family(G)

    def f(a, b):
        p, q = Exp(a), Exp(b)
        kl = G.distributions.kl_divergence(p, q)
        return p.entropy(), kl, G.autograd.grad(kl.sum(), b)[0]

    fn = G.compile(f) if static else f
    got = fn(G.tensor(rates), G.tensor(rates[::-1].copy(), requires_grad=True))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5)
    # closed forms: H = 1 - log(rate)
    np.testing.assert_allclose(got[0].detach().numpy(), 1 - np.log(rates), rtol=1e-5)


def test_user_subclass_parameters_are_checked_at_construction():
    Exp = _exponential_family(G)
    with pytest.raises(ValueError, match="Expected parameter rate"):
        Exp(G.tensor([-1.0, 2.0]))
    assert Exp(G.tensor([-1.0]), validate_args=False).rate.tolist() == [-1.0]


def test_get_checked_instance_for_a_user_expand():
    for lib in (torch, G):
        Exp = _exponential_family(lib)
        d = Exp(lib.tensor([1.0]))
        with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
            d._get_checked_instance(Exp.__mro__[1])
        assert type(d._get_checked_instance(Exp)) is Exp
