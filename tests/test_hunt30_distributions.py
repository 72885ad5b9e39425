"""Distributions against PyTorch, dynamic and static: the default validate_args is part of
a compiled program's key, a distribution's reassigned parameter retraces, cache_size=1
transforms give back their input, NaN logits raise, StudentT's variance gradient at df 2,
kaiming's mode in any case."""

import numpy as np
import pytest

import graphnet
from graphnet import distributions as D

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_validation():
    yield
    D.Distribution.set_default_validate_args(True)
    torch.distributions.Distribution.set_default_validate_args(True)


def test_default_validate_args_switch_reaches_compiled_programs(restore_validation):
    f = graphnet.compile(lambda p, x: D.Bernoulli(probs=p).log_prob(x))
    f(graphnet.tensor([0.3, 0.6]), graphnet.tensor([1.0, 1.0]))
    D.Distribution.set_default_validate_args(False)
    torch.distributions.Distribution.set_default_validate_args(False)
    want = torch.distributions.Bernoulli(probs=torch.tensor([0.3, 0.6])).log_prob(
        torch.tensor([0.5, 1.0]))
    got = f(graphnet.tensor([0.3, 0.6]), graphnet.tensor([0.5, 1.0]))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="support"):
        f(graphnet.tensor([0.3, 0.6]), graphnet.tensor([0.5, 1.0]))


def test_reassigned_distribution_parameter_retraces():
    prior = D.Normal(graphnet.tensor(0.0), graphnet.tensor(1.0))
    f = graphnet.compile(lambda x: prior.log_prob(x).sum())
    x = graphnet.tensor([1.0, 2.0])
    f(x)
    prior.loc = graphnet.tensor(3.0)
    want = torch.distributions.Normal(3.0, 1.0).log_prob(torch.tensor([1.0, 2.0])).sum()
    assert f(x).item() == pytest.approx(want.item(), rel=1e-6)


@pytest.mark.parametrize("wrap", [lambda f: f, graphnet.compile], ids=["dynamic", "static"])
def test_cached_tanh_transform_gives_back_a_saturated_sample(wrap):
    def step(mu):
        d = D.TransformedDistribution(D.Normal(mu, graphnet.tensor([0.05, 0.05])),
                                      [D.transforms.TanhTransform(cache_size=1)])
        a = d.rsample()
        lp = d.log_prob(a)
        lp.sum().backward()
        return lp

    mu = graphnet.tensor([0.0, 12.0], requires_grad=True)
    lp = wrap(step)(mu)
    assert np.isfinite(lp.detach().numpy()).all() and np.isfinite(mu.grad.numpy()).all()
    assert mu.grad[1].item() == pytest.approx(2.0, rel=1e-4)   # d/dmu of -log(1 - tanh^2)
    t = D.transforms.TanhTransform(cache_size=1)
    x = graphnet.tensor([20.0, 0.3])
    assert t.inv(t(x)) is x
    assert D.transforms.TanhTransform().inv(D.transforms.TanhTransform()(x))[0].item() \
        == float("inf")   # without the cache, as PyTorch


@pytest.mark.parametrize("kwargs", [
    {"logits": [0.5, float("nan")]}, {"logits": [0.5, float("inf")]},
    {"logits": [float("-inf"), float("-inf")]}, {"probs": [0.0, 0.0]}])
@pytest.mark.parametrize("wrap", [lambda f: f, graphnet.compile], ids=["dynamic", "static"])
def test_categorical_refuses_parameters_that_normalise_to_nan(kwargs, wrap):
    (name, value), = kwargs.items()
    with pytest.raises(ValueError, match=f"Expected parameter {name}"):
        torch.distributions.Categorical(**{name: torch.tensor(value)})
    f = wrap(lambda v: D.Categorical(**{name: v}).log_prob(graphnet.tensor(0)))
    with pytest.raises(ValueError, match=f"Expected parameter {name}"):
        f(graphnet.tensor(value))


def test_bernoulli_refuses_nan_logits():
    for lib in (torch, graphnet):
        with pytest.raises(ValueError, match="Expected parameter logits"):
            lib.distributions.Bernoulli(logits=lib.tensor([0.5, float("nan")]))


def test_student_t_variance_gradient_at_df_two():
    grads = []
    for lib in (torch, graphnet):
        df = lib.tensor([2.0, 3.0], requires_grad=True)
        scale = lib.tensor([1.0, 1.0], requires_grad=True)
        var = lib.distributions.StudentT(df, 0.0, scale).variance
        var[1].backward()
        grads.append((df.grad.tolist(), scale.grad.tolist()))
    assert grads[0] == grads[1] == ([0.0, -2.0], [0.0, 6.0])


def test_kaiming_mode_in_any_case_and_error_order():
    w = graphnet.empty(300, 400)
    graphnet.nn.init.kaiming_normal_(w, mode="Fan_Out")
    assert w.std().item() == pytest.approx(np.sqrt(2.0 / 300), rel=0.05)
    for lib in (torch, graphnet):
        with pytest.raises(ValueError, match=r"Mode bad not supported, please use one of "
                                             r"\['fan_in', 'fan_out'\]"):
            lib.nn.init.kaiming_normal_(lib.empty(3, 4), mode="bad", nonlinearity="bad")
