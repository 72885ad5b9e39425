"""The distributions beyond the first seven against torch.distributions: log_prob, entropy,
moments, cdf/icdf, KL and their gradients, eagerly and compiled (sampling and errors are in
test_distributions_more_sampling.py)."""

import numpy as np
import pytest
from parity import assert_close, to_gn, to_torch, torch

import graphnet
import graphnet.distributions as gd

RNG = np.random.default_rng(1)
POS = RNG.uniform(0.5, 2.5, 4).astype(np.float32)
POS2 = RNG.uniform(0.5, 2.5, 4).astype(np.float32)
REAL = RNG.standard_normal(4).astype(np.float32)
UNIT = RNG.uniform(0.1, 0.9, 4).astype(np.float32)
CONC = RNG.uniform(0.5, 3.0, (2, 3)).astype(np.float32)
TRIL = (np.tril(RNG.standard_normal((2, 3, 3))) * 0.3 +
        np.eye(3) * 1.2).astype(np.float32)
VEC = RNG.standard_normal((2, 3)).astype(np.float32)


def _exponential(D, lib, rate, v):
    d, q = D.Exponential(rate), D.Exponential(rate * 0.7 + 0.2)
    x = v.abs()
    return (d.log_prob(x), d.entropy(), d.cdf(x), d.icdf(lib.sigmoid(v)), d.mean, d.variance,
            d.stddev, d.mode, D.kl_divergence(d, q), D.kl_divergence(d, D.Gamma(rate, rate)))


def _laplace(D, lib, loc, scale, v):
    d, q = D.Laplace(loc, scale), D.Laplace(loc * 0.5, scale + 0.3)
    return (d.log_prob(v), d.entropy(), d.cdf(v), d.icdf(lib.sigmoid(v)), d.mean, d.variance,
            d.stddev, d.mode, D.kl_divergence(d, q))


def _cauchy(D, lib, loc, scale, v):
    d, q = D.Cauchy(loc, scale), D.Cauchy(loc * 0.5, scale + 0.3)
    return (d.log_prob(v), d.entropy(), d.cdf(v), d.icdf(lib.sigmoid(v)), d.mode,
            D.kl_divergence(d, q))


def _gamma(D, lib, conc, rate, v):
    d, q = D.Gamma(conc, rate), D.Gamma(rate, conc)
    x = v.abs() + 0.1
    return (d.log_prob(x), d.entropy(), d.mean, d.variance, d.mode, D.kl_divergence(d, q),
            D.Chi2(conc * 2).log_prob(x), D.Chi2(conc).entropy())


def _student(D, lib, df, scale, v):
    d = D.StudentT(df + 1.5, v * 0.3, scale)
    return d.log_prob(v), d.entropy(), d.mean, d.variance, d.mode


def _beta(D, lib, a, b, u):
    d, q = D.Beta(a, b), D.Beta(b, a + 0.5)
    return (d.log_prob(u), d.entropy(), d.mean, d.variance, d.mode, D.kl_divergence(d, q),
            d.concentration1)


def _dirichlet(D, lib, conc, v):
    d, q = D.Dirichlet(conc), D.Dirichlet(conc.flip(-1) + 0.5)
    x = lib.softmax(v, -1)
    return d.log_prob(x), d.entropy(), d.mean, d.variance, d.mode, D.kl_divergence(d, q)


def _poisson(D, lib, rate, rate2):
    d = D.Poisson(rate)
    k = lib.tensor([0.0, 1.0, 3.0, 7.0])
    return d.log_prob(k), d.mean, d.variance, d.mode, D.kl_divergence(d, D.Poisson(rate2))


def _binomial(D, lib, probs, logits):
    d, q = D.Binomial(5, probs), D.Binomial(lib.tensor(5.0), logits=logits)
    k = lib.tensor([0.0, 1.0, 3.0, 5.0])
    return (d.log_prob(k), q.log_prob(k), d.mean, d.variance, d.mode, q.probs, d.logits,
            D.kl_divergence(d, q))


def _mvn(D, lib, loc, tril):
    cov = tril @ tril.mT
    # NOTE: .tril(): graphnet's cholesky_inverse gradient is zero above the diagonal,
    # PyTorch's is not (a core linalg difference, reported separately)
    d = D.MultivariateNormal(loc, scale_tril=tril.tril())
    c = D.MultivariateNormal(loc * 0.5, covariance_matrix=cov)
    p = D.MultivariateNormal(loc, precision_matrix=cov)
    x = loc.flip(-1)
    return (d.log_prob(x), c.log_prob(x), p.log_prob(x), d.entropy(), p.entropy(), d.variance,
            c.scale_tril, d.covariance_matrix, d.precision_matrix, p.covariance_matrix,
            D.kl_divergence(d, c), D.kl_divergence(p, d))


def _lognormal(D, lib, loc, scale, v):
    d, q = D.LogNormal(loc, scale), D.LogNormal(loc + 0.2, scale * 2)
    x = v.exp()
    return (d.log_prob(x), d.entropy(), d.mean, d.variance, d.mode, d.cdf(x),
            d.icdf(lib.sigmoid(v)), D.kl_divergence(d, q))


def _transformed(D, lib, loc, scale, v):
    T = D.transforms if hasattr(D, "transforms") else D
    base = D.Normal(loc, scale)
    tanh = D.TransformedDistribution(base, [T.AffineTransform(0.5, 2.0), T.TanhTransform()])
    sig = D.TransformedDistribution(base, T.SigmoidTransform())
    neg = D.TransformedDistribution(base, [T.AffineTransform(loc, -scale), T.ExpTransform()])
    comp = T.ComposeTransform([T.AffineTransform(loc, scale), T.ExpTransform()])
    y = lib.tanh(v) * 0.9
    return (tanh.log_prob(y), sig.log_prob(lib.sigmoid(v)), sig.cdf(lib.sigmoid(v)),
            neg.cdf(v.exp()), neg.icdf(lib.sigmoid(v)), comp(v), comp.inv(comp(v)),
            comp.log_abs_det_jacobian(v, comp(v)),
            D.kl_divergence(sig, D.TransformedDistribution(D.Normal(loc, 1.0),
                                                          T.SigmoidTransform())))


def _mixture(D, lib, logits, loc, scale):
    d = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, scale))
    mv = D.MixtureSameFamily(D.Categorical(logits=logits[:2]),
                             D.Independent(D.Normal(loc.reshape(2, 2), scale.reshape(2, 2)), 1))
    x = lib.tensor([[-1.0], [0.3], [2.0]])
    return d.log_prob(x), d.mean, d.variance, d.cdf(x), mv.log_prob(loc.reshape(2, 2)), mv.mean


def _relaxed(D, lib, probs, v):
    t = lib.tensor(0.7)
    rb = D.RelaxedBernoulli(t, probs=probs)
    rc = D.RelaxedOneHotCategorical(t, logits=v)
    return rb.log_prob(lib.sigmoid(v)), rc.log_prob(lib.softmax(v.flip(0), -1)), rb.logits


CASES = {
    "exponential": (_exponential, (POS, REAL)),
    "laplace": (_laplace, (REAL, POS, POS2)),
    "cauchy": (_cauchy, (REAL, POS, POS2)),
    "gamma": (_gamma, (POS, POS2, REAL)),
    "student_t": (_student, (POS, POS2, REAL)),
    "beta": (_beta, (POS, POS2, UNIT)),
    "dirichlet": (_dirichlet, (CONC, VEC)),
    "poisson": (_poisson, (POS, POS2)),
    "binomial": (_binomial, (UNIT, REAL)),
    "multivariate_normal": (_mvn, (VEC, TRIL)),
    "lognormal": (_lognormal, (REAL, POS, REAL)),
    "transformed": (_transformed, (REAL, POS, REAL)),
    "mixture": (_mixture, (POS2, REAL, POS)),
    "relaxed": (_relaxed, (UNIT, REAL)),
}
EAGER_ONLY = {"binomial"}   # its KL reads the total counts' values


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name, compiled):
    fn, arrays = CASES[name]
    t_in = [to_torch(a, requires_grad=True) for a in arrays]
    g_in = [to_gn(a, requires_grad=True) for a in arrays]
    expected = fn(torch.distributions, torch, *t_in)
    call = (lambda *xs: fn(gd, graphnet, *xs))
    if compiled and name in EAGER_ONLY:
        with pytest.raises(graphnet.TraceError if hasattr(graphnet, "TraceError")
                           else RuntimeError, match="compiled"):
            graphnet.compile(call)(*g_in)
        return
    actual = graphnet.compile(call)(*g_in) if compiled else call(*g_in)
    assert len(actual) == len(expected)
    for k, (a, e) in enumerate(zip(actual, expected)):
        assert a.dtype.name == str(e.dtype).replace("torch.", ""), f"{name} output {k} dtype"
        assert_close(a, e, atol=2e-5, rtol=2e-4, what=f"{name} output {k}")
    weights = [RNG.standard_normal(tuple(e.shape)).astype(np.float32) for e in expected]
    sum((e * to_torch(w)).sum() for e, w in zip(expected, weights)
        if e.requires_grad).backward()
    sum((a * to_gn(w)).sum() for a, w in zip(actual, weights) if a.requires_grad).backward()
    for k, (g, t) in enumerate(zip(g_in, t_in)):
        if t.grad is not None:
            assert_close(g.grad, t.grad, atol=5e-5, rtol=5e-4, what=f"{name} grad {k}")
