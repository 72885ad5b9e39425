"""graphnet.distributions against torch.distributions: log_prob, entropy, moments, KL and
their gradients, eagerly and compiled; sampling by its statistics; PyTorch's errors."""

import numpy as np
import pytest
from parity import assert_close, to_gn, to_torch, torch

import graphnet
import graphnet.distributions as gd

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 3)).astype(np.float32)
LOC = RNG.standard_normal(4).astype(np.float32)
SCALE = RNG.uniform(0.5, 2.0, 4).astype(np.float32)
PROBS = RNG.uniform(0.1, 0.9, 4).astype(np.float32)
VALUES = RNG.standard_normal(4).astype(np.float32)


def _normal(D, lib, loc, scale, v):
    d = D.Normal(loc, scale)
    q = D.Normal(loc * 0.5 + 0.1, scale * 1.5)
    return (d.log_prob(v), d.entropy(), d.cdf(v), d.icdf(lib.sigmoid(v)), d.mean, d.stddev,
            D.kl_divergence(d, q), D.Independent(d, 1).log_prob(v))


def _categorical(D, lib, logits, v):
    d, q = D.Categorical(logits=logits), D.Categorical(probs=lib.softmax(logits * 2, -1))
    actions = lib.tensor([0, 2, 1, 1])
    return (d.log_prob(actions), d.entropy(), d.probs, D.kl_divergence(d, q),
            D.OneHotCategorical(logits=logits).entropy(), q.logits)


def _bernoulli(D, lib, p, v):
    d, q = D.Bernoulli(probs=p), D.Bernoulli(logits=v)
    target = (v > 0).float()
    return d.log_prob(target), d.entropy(), q.log_prob(target), D.kl_divergence(d, q), d.variance


def _uniform(D, lib, low, v):
    d = D.Uniform(low, low + 2.0)
    return d.log_prob(low + 0.5), d.entropy(), d.cdf(low + v.sigmoid()), d.mean, d.variance


CASES = {
    "normal": (_normal, (LOC, SCALE, VALUES)),
    "categorical": (_categorical, (LOGITS, VALUES)),
    "bernoulli": (_bernoulli, (PROBS, VALUES)),
    "uniform": (_uniform, (LOC, VALUES)),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name, compiled):
    fn, arrays = CASES[name]
    t_in = [to_torch(a, requires_grad=True) for a in arrays]
    g_in = [to_gn(a, requires_grad=True) for a in arrays]
    expected = fn(torch.distributions, torch, *t_in)
    call = (lambda *xs: fn(gd, graphnet, *xs))
    actual = graphnet.compile(call)(*g_in) if compiled else call(*g_in)
    assert len(actual) == len(expected)
    for k, (a, e) in enumerate(zip(actual, expected)):
        assert_close(a, e, atol=1e-5, rtol=1e-4, what=f"{name} output {k}")
    weights = [RNG.standard_normal(tuple(e.shape)).astype(np.float32) for e in expected]
    sum((e * to_torch(w)).sum() for e, w in zip(expected, weights)
        if e.requires_grad).backward()
    sum((a * to_gn(w)).sum() for a, w in zip(actual, weights) if a.requires_grad).backward()
    for k, (g, t) in enumerate(zip(g_in, t_in)):
        if t.grad is not None:
            assert_close(g.grad, t.grad, atol=1e-5, rtol=1e-4, what=f"{name} grad {k}")


def test_sampling_statistics_and_reparameterisation():
    graphnet.manual_seed(0)
    probs = graphnet.tensor([0.1, 0.6, 0.3])
    draws = gd.Categorical(probs=probs).sample((20000,))
    assert draws.shape == (20000,) and draws.dtype == graphnet.int64
    assert np.allclose(np.bincount(draws.numpy(), minlength=3) / 20000, [0.1, 0.6, 0.3],
                       atol=0.015)
    loc = graphnet.tensor([1.0, -2.0], requires_grad=True)
    z = gd.Normal(loc, 0.5).rsample((5000,))
    assert z.shape == (5000, 2) and np.allclose(z.mean(0).detach().numpy(), [1, -2], atol=0.05)
    z.sum().backward()
    assert np.allclose(loc.grad.numpy(), 5000.0)   # d(loc + eps*scale)/d loc, summed
    assert not gd.Normal(loc, 0.5).sample().requires_grad
    one_hot = gd.OneHotCategorical(probs=probs).sample((4,))
    assert one_hot.shape == (4, 3) and (one_hot.sum(-1) == 1).all()
    b = gd.Bernoulli(probs=graphnet.full((20000,), 0.25)).sample()
    assert abs(float(b.mean()) - 0.25) < 0.015


def test_reprs_shapes_and_errors_as_pytorch():
    ours = gd.Normal(graphnet.zeros(3), graphnet.ones(3))
    theirs = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    assert repr(ours).replace("graphnet", "torch") == repr(theirs)
    assert ours.batch_shape == (3,) and ours.event_shape == ()
    ind = gd.Independent(ours, 1)
    assert ind.batch_shape == () and ind.event_shape == (3,)
    with pytest.raises(ValueError, match="scale"):
        gd.Normal(0.0, graphnet.tensor(-1.0))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        gd.Categorical()
    with pytest.raises(NotImplementedError, match="No KL"):
        gd.kl_divergence(ours, gd.Cauchy(0.0, 1.0))   # no formula in either library
