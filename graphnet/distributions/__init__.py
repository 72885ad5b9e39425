"""`graphnet.distributions`: the torch.distributions that models use every day:
`Categorical` and `OneHotCategorical` (policies, sampling tokens), `Normal` (VAEs, Gaussian
policies), `Bernoulli`, `Uniform`, `Independent`; Exponential, Laplace, Cauchy, Gamma, Chi2,
StudentT, Beta, Dirichlet, Poisson, Binomial, MultivariateNormal; TransformedDistribution with
`transforms` (LogNormal, RelaxedBernoulli, RelaxedOneHotCategorical); MixtureSameFamily; and
`kl_divergence` for the pairs PyTorch computes in closed form.

They are written with graphnet's tensor ops, so `log_prob`, `entropy`, `rsample` and
`kl_divergence` differentiate and compile like any other code; `sample` draws through the
global generator (or the ops' RNG inside a compiled function). Parameter checks
(`validate_args`) raise PyTorch's ValueError eagerly; a compiled function cannot read
values, so they are skipped there, as PyTorch's `validate_args=False` would.

>>> from graphnet.distributions import Categorical
>>> dist = Categorical(logits=policy(state))
>>> action = dist.sample(); loss = -dist.log_prob(action) * advantage
"""

from . import constraints, transforms
from ._base import Distribution
from ._continuous import Cauchy, Chi2, Exponential, Gamma, Laplace, StudentT
from ._counts import Binomial, Poisson
from ._kinds import Bernoulli, Categorical, Independent, Normal, OneHotCategorical, Uniform
from ._kl import kl_divergence, register_kl
from ._kl_more import _beta_beta  # noqa: F401  (registers the KL pairs of the families below)
from ._kl_cross import _uniform_normal  # noqa: F401  (registers the cross-family KL pairs)
from ._mixture import MixtureSameFamily
from ._mvn import MultivariateNormal
from ._simplex import Beta, Dirichlet
from ._transformed import (ExpRelaxedCategorical, LogitRelaxedBernoulli, LogNormal,
                           RelaxedBernoulli, RelaxedOneHotCategorical, TransformedDistribution)
from .transforms import (AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform,
                         SoftplusTransform, TanhTransform, Transform)

__all__ = ["Distribution", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2",
           "Dirichlet", "ExpRelaxedCategorical", "Exponential", "Gamma", "Independent",
           "Laplace", "LogNormal", "LogitRelaxedBernoulli", "MixtureSameFamily",
           "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Uniform",
           "AffineTransform", "ComposeTransform", "ExpTransform", "SigmoidTransform",
           "SoftplusTransform", "TanhTransform", "Transform", "constraints", "transforms",
           "kl_divergence", "register_kl"]
