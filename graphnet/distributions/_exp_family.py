"""`ExponentialFamily`: the base class of densities exp(<t(x), θ> - F(θ) + k(x)), whose
entropy and KL divergence follow from the log-normalizer F alone."""

from __future__ import annotations

from ._base import Distribution
from ._kl import register_kl


class ExponentialFamily(Distribution):
    """A subclass names its natural parameters θ (`_natural_params`, a tuple of tensors),
    the log-normalizer F(θ) (`_log_normalizer(*θ)`, one value per batch element) and the
    expected carrier measure E[k(x)] (`_mean_carrier_measure`). `entropy()` is then
    F(θ) - <θ, ∇F(θ)> - E[k(x)], with ∇F from autograd (at θ detached, as PyTorch takes it:
    the entropy does not differentiate back into the parameters)."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        thetas, normalizer, grads = _normalizer_and_gradient(self)
        result = normalizer - self._mean_carrier_measure
        for theta, grad in zip(thetas, grads):
            result = result - (theta * grad).reshape(*self.batch_shape, -1).sum(-1)
        return result


def _normalizer_and_gradient(dist: ExponentialFamily):
    """θ (detached leaves needing grad), F(θ) and ∇F(θ) (kept differentiable)."""
    from ..autograd import grad

    thetas = [theta.detach().requires_grad_() for theta in dist._natural_params]
    normalizer = dist._log_normalizer(*thetas)
    return thetas, normalizer, grad(normalizer.sum(), thetas, create_graph=True)


@register_kl(ExponentialFamily, ExponentialFamily)
def _expfamily_expfamily(p, q):
    """The Bregman divergence of F between the two θ: F(θq) - F(θp) - <θq - θp, ∇F(θp)>."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential "
                                  "families cannot be computed using Bregman divergences")
    thetas_p, normalizer_p, grads = _normalizer_and_gradient(p)
    thetas_q = q._natural_params     # not detached: the divergence differentiates into q
    result = q._log_normalizer(*thetas_q) - normalizer_p
    event_dims = tuple(range(-len(q.event_shape), 0))
    for theta_p, theta_q, grad in zip(thetas_p, thetas_q, grads):
        term = (theta_q - theta_p) * grad
        result = result - (term.sum(event_dims) if event_dims else term)
    return result
