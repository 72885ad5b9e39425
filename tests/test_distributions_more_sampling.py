"""Sampling of the distributions beyond the first seven (shapes, dtypes, support, moments
with a fixed graphnet seed), rsample's reparameterised gradients against PyTorch's formulas,
and PyTorch's reprs, constraints, expand and argument errors."""

import numpy as np
import pytest
from parity import assert_close, to_gn, torch

import graphnet
import graphnet.distributions as gd

TD = torch.distributions
N = 40000


def _t(*values):
    return graphnet.tensor(np.array(values, np.float32))


FAMILIES = {   # name: the distribution, built by graphnet or torch with the same parameters
    "exponential": (lambda D, T: D.Exponential(T([0.5, 2.0]))),
    "laplace": (lambda D, T: D.Laplace(T([0.0, 1.0]), T([1.0, 0.5]))),
    "gamma": (lambda D, T: D.Gamma(T([0.3, 4.0]), T([1.0, 2.0]))),
    "chi2": (lambda D, T: D.Chi2(T([1.0, 5.0]))),
    "student_t": (lambda D, T: D.StudentT(T([5.0, 9.0]), T([0.0, 1.0]), T([1.0, 2.0]))),
    "beta": (lambda D, T: D.Beta(T([0.5, 2.0]), T([0.5, 3.0]))),
    "dirichlet": (lambda D, T: D.Dirichlet(T([[0.5, 1.0, 2.0], [3.0, 3.0, 1.0]]))),
    "poisson": (lambda D, T: D.Poisson(T([0.5, 7.0]))),
    "binomial": (lambda D, T: D.Binomial(T([5.0, 12.0]), T([0.3, 0.8]))),
    "lognormal": (lambda D, T: D.LogNormal(T([0.0, 0.5]), T([0.25, 0.5]))),
    "mvn": (lambda D, T: D.MultivariateNormal(T([1.0, -1.0]),
                                              T([[2.0, 0.6], [0.6, 1.0]]))),
    "mixture": (lambda D, T: D.MixtureSameFamily(D.Categorical(T([0.3, 0.7])),
                                                 D.Normal(T([-1.0, 2.0]), T([0.5, 1.0])))),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_sample_shapes_dtypes_support_and_moments(name, compiled):
    make = FAMILIES[name]
    ours = make(gd, lambda v: graphnet.tensor(np.array(v, np.float32)))
    theirs = make(TD, lambda v: torch.tensor(np.array(v, np.float32)))
    graphnet.manual_seed(0)
    draw = (lambda: ours.sample((N,)))
    x = graphnet.compile(draw)() if compiled else draw()
    ref = theirs.sample((N,))
    assert tuple(x.shape) == tuple(ref.shape) and x.dtype.name == str(ref.dtype)[6:]
    assert not x.requires_grad
    assert bool(ours.support.check(x).all())
    xs = x.numpy().astype(np.float64)
    assert_close(np.asarray(xs.mean(0)), theirs.mean.numpy(), atol=0.05,
                 rtol=0.05, what=f"{name} sample mean")
    assert_close(np.asarray(xs.var(0)), theirs.variance.numpy(), atol=0.05, rtol=0.1,
                 what=f"{name} sample variance")


def test_cauchy_and_relaxed_samples():
    graphnet.manual_seed(1)
    x = gd.Cauchy(_t(1.0, -2.0), _t(0.5, 2.0)).sample((N,))
    assert np.allclose(np.median(x.numpy(), 0), [1.0, -2.0], atol=0.05)
    t = graphnet.tensor(0.5)
    rb = gd.RelaxedBernoulli(t, probs=_t(0.2, 0.9)).rsample((N,))
    assert rb.shape == (N, 2) and bool(((rb > 0) & (rb < 1)).all())
    assert np.allclose((rb.numpy() > 0.5).mean(0), [0.2, 0.9], atol=0.02)
    rc = gd.RelaxedOneHotCategorical(t, probs=_t(0.2, 0.5, 0.3)).rsample((N,))
    assert rc.shape == (N, 3) and np.allclose(rc.sum(-1).numpy(), 1, atol=1e-5)
    assert np.allclose(np.bincount(rc.numpy().argmax(-1)) / N, [0.2, 0.5, 0.3], atol=0.02)


def test_gamma_rsample_has_torchs_implicit_gradient():
    graphnet.manual_seed(2)
    alpha = graphnet.tensor([0.2, 1.0, 3.5, 20.0], requires_grad=True)
    rate = graphnet.tensor([1.0, 2.0, 0.5, 1.5], requires_grad=True)
    x = gd.Gamma(alpha, rate).rsample((500,))
    x.sum().backward()
    standard = (x * rate).detach().numpy()
    # torch's d sample / d alpha of a standard gamma sample, scaled by 1 / rate
    expected = torch._standard_gamma_grad(torch.tensor([0.2, 1.0, 3.5, 20.0]).expand(500, 4),
                                          torch.from_numpy(standard))
    expected = (expected / torch.tensor([1.0, 2.0, 0.5, 1.5])).sum(0)
    assert_close(alpha.grad, expected, rtol=2e-3, atol=1e-3, what="d gamma / d alpha")
    assert_close(rate.grad, -(x / rate).sum(0), rtol=1e-5, what="d gamma / d rate")


@pytest.mark.parametrize("name", ["beta", "dirichlet", "student_t"])
def test_implicit_rsample_gradients_are_unbiased(name):
    # NOTE: Beta/Dirichlet/StudentT draws go through gamma draws (a different but equally
    # valid reparameterisation from PyTorch's), so compare E[d sample/d param] with the
    # derivative of the closed-form mean instead of per-sample gradients.
    graphnet.manual_seed(3)
    a = graphnet.tensor([0.7, 2.0], requires_grad=True)
    ta = torch.tensor([0.7, 2.0], requires_grad=True)
    fns = {"beta": lambda D, p: D.Beta(p, p.new_ones(()) * 1.5),
           "dirichlet": lambda D, p: D.Dirichlet(p),
           "student_t": lambda D, p: D.StudentT(10.0, p, p + 1.0)}
    draws = fns[name](gd, a).rsample((N,))
    (draws[..., 0] * draws[..., 0]).mean().backward()
    d = fns[name](TD, ta)
    (d.variance[..., 0] + d.mean[..., 0] ** 2).backward()
    assert_close(a.grad, ta.grad, atol=0.02, rtol=0.05, what=f"{name} E[x0^2] gradient")


def test_location_scale_rsample_gradients_follow_the_reparameterisation():
    graphnet.manual_seed(4)
    for cls in ("Laplace", "Cauchy", "LogNormal"):
        loc = graphnet.tensor([0.5, -1.0], requires_grad=True)
        scale = graphnet.tensor([1.5, 0.5], requires_grad=True)
        x = getattr(gd, cls)(loc, scale).rsample((7,))
        x.sum().backward()
        z = x.detach().log() if cls == "LogNormal" else x.detach()
        jac = x.detach() if cls == "LogNormal" else graphnet.ones_like(x)
        assert_close(loc.grad, jac.sum(0), rtol=1e-5, what=f"{cls} d/dloc")
        assert_close(scale.grad, (jac * (z - loc.detach()) / scale.detach()).sum(0),
                     rtol=1e-4, atol=1e-5, what=f"{cls} d/dscale")
    rate = graphnet.tensor([0.5, 3.0], requires_grad=True)
    x = gd.Exponential(rate).rsample((7,))
    x.sum().backward()
    assert_close(rate.grad, (-x / rate).sum(0).detach(), rtol=1e-5, what="Exponential")
    loc = graphnet.tensor([1.0, 2.0], requires_grad=True)
    tril = graphnet.tensor([[1.0, 0.0], [0.5, 2.0]], requires_grad=True)
    x = gd.MultivariateNormal(loc, scale_tril=tril).rsample((7,))
    eps = graphnet.linalg.solve_triangular(tril.detach(), (x - loc).detach().unsqueeze(-1),
                                           upper=False).squeeze(-1)
    x.sum().backward()
    # d(L @ eps)/dL: PyTorch multiplies the whole matrix, so the upper entries get one too
    assert_close(tril.grad, (graphnet.ones(7, 2).unsqueeze(-1) * eps.unsqueeze(-2)).sum(0),
                 rtol=1e-4, atol=1e-5, what="MVN d/dscale_tril")


REPRS = [
    lambda D, T: D.Exponential(T([1.0, 2.0])),
    lambda D, T: D.Gamma(T([1.0, 2.0]), T([1.0, 2.0])),
    lambda D, T: D.Dirichlet(T([1.0, 2.0])),
    lambda D, T: D.Beta(T([1.0]), T([2.0])),
    lambda D, T: D.Binomial(5, T([0.3, 0.4])),
    lambda D, T: D.MultivariateNormal(T([0.0, 0.0]), T([[1.0, 0.0], [0.0, 1.0]])),
    lambda D, T: D.LogNormal(T([0.0]), T([1.0])),
    lambda D, T: D.StudentT(T([3.0, 4.0])),
    lambda D, T: D.MixtureSameFamily(D.Categorical(logits=T([0.0, 1.0])),
                                     D.Laplace(T([0.0, 1.0]), T([1.0, 1.0]))),
]


@pytest.mark.parametrize("k", range(len(REPRS)))
def test_reprs_constraints_shapes_and_expand_as_pytorch(k):
    ours = REPRS[k](gd, lambda v: graphnet.tensor(np.array(v, np.float32)))
    theirs = REPRS[k](TD, lambda v: torch.tensor(np.array(v, np.float32)))
    if not isinstance(ours, gd.MixtureSameFamily):   # torch's Categorical shows both params
        assert repr(ours).replace("graphnet", "torch") == repr(theirs)
    assert (ours.batch_shape, ours.event_shape) == (theirs.batch_shape, theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert repr(ours.support) == repr(theirs.support) or k == 4   # Binomial's shows its bound
    assert {n: repr(c) for n, c in ours.arg_constraints.items()} == \
        {n: repr(c) for n, c in theirs.arg_constraints.items()}
    big_ours, big_theirs = ours.expand((3,) + tuple(ours.batch_shape)), \
        theirs.expand((3,) + tuple(theirs.batch_shape))
    assert big_ours.batch_shape == big_theirs.batch_shape
    value = theirs.sample((3,))
    assert_close(big_ours.log_prob(to_gn(value.numpy())), big_theirs.log_prob(value),
                 atol=1e-5, rtol=1e-5, what="expanded log_prob")


def _message(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib.distributions if lib is torch else gd, lib)
    return type(info.value), str(info.value).split("\n")[0].replace("graphnet", "torch")


ERRORS = {
    "rate": lambda D, L: D.Exponential(L.tensor([1.0, -1.0])),
    "concentration": lambda D, L: D.Gamma(L.tensor([0.0]), L.tensor([1.0])),
    "dirichlet": lambda D, L: D.Dirichlet(L.tensor([1.0, -2.0])),
    "dirichlet_dim": lambda D, L: D.Dirichlet(L.tensor(1.0)),
    "beta": lambda D, L: D.Beta(L.tensor([1.0]), L.tensor([-1.0])),
    "poisson": lambda D, L: D.Poisson(L.tensor([-1.0])),
    "binomial": lambda D, L: D.Binomial(3, L.tensor([1.5])),
    "binomial_count": lambda D, L: D.Binomial(L.tensor([2.5]), L.tensor([0.5])),
    "binomial_both": lambda D, L: D.Binomial(3),
    "student": lambda D, L: D.StudentT(L.tensor([-1.0])),
    "mvn_two": lambda D, L: D.MultivariateNormal(L.zeros(2), L.eye(2), scale_tril=L.eye(2)),
    "mvn_loc": lambda D, L: D.MultivariateNormal(L.tensor(0.0), L.eye(2)),
    "mvn_pd": lambda D, L: D.MultivariateNormal(L.zeros(2), -L.eye(2)),
    "mvn_tril": lambda D, L: D.MultivariateNormal(L.zeros(2), scale_tril=L.ones(2, 2)),
    "support": lambda D, L: D.Exponential(L.tensor([1.0])).log_prob(L.tensor([-1.0])),
    "simplex": lambda D, L: D.Dirichlet(L.ones(3)).log_prob(L.ones(3)),
    "event": lambda D, L: D.Dirichlet(L.ones(3)).log_prob(L.ones(2) / 2),
    "not_tensor": lambda D, L: D.Laplace(L.zeros(1), L.ones(1)).log_prob(0.5),
    "transforms": lambda D, L: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"),
    "mixture": lambda D, L: D.MixtureSameFamily(D.Categorical(L.ones(3)),
                                                D.Normal(L.zeros(2), L.ones(2))),
    "mixture_type": lambda D, L: D.MixtureSameFamily(D.Normal(0.0, 1.0),
                                                     D.Normal(L.zeros(2), L.ones(2))),
    "kl": lambda D, L: D.kl_divergence(D.Poisson(L.ones(1)), D.Laplace(L.ones(1), L.ones(1))),
    "binomial_kl": lambda D, L: D.kl_divergence(D.Binomial(2, L.tensor([0.5])),
                                                D.Binomial(3, L.tensor([0.5]))),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_as_pytorch(name):
    ours, theirs = _message(ERRORS[name], graphnet), _message(ERRORS[name], torch)
    assert ours[0] is theirs[0], f"{name}: {ours} vs {theirs}"
    if name not in ("mixture_type", "mixture"):
        assert ours[1] == theirs[1]


def test_binomial_entropy_and_compiled_refusal():
    ours = gd.Binomial(4, graphnet.tensor([0.2, 0.7]))
    theirs = TD.Binomial(4, torch.tensor([0.2, 0.7]))
    assert_close(ours.entropy(), theirs.entropy(), atol=1e-5, what="Binomial entropy")
    assert_close(ours.enumerate_support(), theirs.enumerate_support(), what="support")
    with pytest.raises(graphnet.TraceError if hasattr(graphnet, "TraceError")
                       else RuntimeError, match="eagerly"):
        graphnet.compile(lambda p: gd.Binomial(4, p).entropy())(graphnet.tensor([0.2, 0.7]))
