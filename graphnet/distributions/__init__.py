"""`graphnet.distributions`: the torch.distributions that models use every day:
`Categorical` and `OneHotCategorical` (policies, sampling tokens), `Normal` (VAEs, Gaussian
policies), `Bernoulli`, `Uniform`, `Independent`; Exponential, Laplace, Cauchy, Gamma, Chi2,
StudentT, Beta, Dirichlet, Poisson, Binomial, MultivariateNormal, LowRankMultivariateNormal;
Geometric, NegativeBinomial, Multinomial, OneHotCategoricalStraightThrough;
ContinuousBernoulli, FisherSnedecor, GeneralizedPareto, VonMises, LKJCholesky;
TransformedDistribution with `transforms` (LogNormal, RelaxedBernoulli,
RelaxedOneHotCategorical, Gumbel, HalfNormal, HalfCauchy, Weibull, Pareto, InverseGamma,
Kumaraswamy, LogisticNormal); MixtureSameFamily;
`biject_to` / `transform_to` (constraint -> transform); and `kl_divergence` for the pairs
PyTorch computes in closed form.

They are written with graphnet's tensor ops, so `log_prob`, `entropy`, `rsample` and
`kl_divergence` differentiate and compile like any other code; `sample` draws through the
global generator (or the ops' RNG inside a compiled function). Parameter checks
(`validate_args`) raise PyTorch's ValueError eagerly; in a compiled function the program
carries them and raises the same ValueError when a call's values break them (_checked.py).
PyTorch's submodule paths (`graphnet.distributions.normal`, `.kl`, `.utils` ...) import too.

>>> from graphnet.distributions import Categorical
>>> dist = Categorical(logits=policy(state))
>>> action = dist.sample(); loss = -dist.log_prob(action) * advantage
"""

import sys

from . import _transforms_pointwise, _transforms_structural, constraints, transforms
from ._base import Distribution
from ._constraint_registry import ConstraintRegistry, biject_to, transform_to  # noqa: F401
from ._continuous import Cauchy, Chi2, Exponential, Gamma, Laplace, StudentT
from ._continuous_bernoulli import ContinuousBernoulli
from ._exp_family import ExponentialFamily
from ._counts import Binomial, Poisson
from ._discrete_more import (Geometric, Multinomial, NegativeBinomial,
                             OneHotCategoricalStraightThrough)
from ._extreme import GeneralizedPareto, Gumbel, Pareto, Weibull
from ._fisher_snedecor import FisherSnedecor
from ._half import HalfCauchy, HalfNormal
from ._lkj import CorrCholeskyTransform, LKJCholesky
from ._kinds import Bernoulli, Categorical, Independent, Normal, OneHotCategorical, Uniform
from ._kl import kl_divergence, register_kl
from ._kl_more import _beta_beta  # noqa: F401  (registers the KL pairs of the families below)
from ._kl_cross import _uniform_normal  # noqa: F401  (registers the cross-family KL pairs)
from ._kl_breadth import _gumbel_gumbel  # noqa: F401  (registers the newer families' KL pairs)
from ._kl_breadth_cross import _gamma_gumbel  # noqa: F401  (and their cross-family pairs)
from ._mixture import MixtureSameFamily
from ._lowrank_mvn import LowRankMultivariateNormal
from ._mvn import MultivariateNormal
from ._simplex import Beta, Dirichlet
from ._transformed import (ExpRelaxedCategorical, LogitRelaxedBernoulli, LogNormal,
                           RelaxedBernoulli, RelaxedOneHotCategorical, TransformedDistribution)
from ._transformed_more import InverseGamma, Kumaraswamy, LogisticNormal
from ._transforms_pointwise import (AbsTransform, CumulativeDistributionTransform,
                                    LowerCholeskyTransform, PositiveDefiniteTransform,
                                    PowerTransform, SoftmaxTransform, StickBreakingTransform)
from ._transforms_structural import (CatTransform, IndependentTransform, ReshapeTransform,
                                     StackTransform)
from ._von_mises import VonMises
from . import _torch_paths, utils  # noqa: F401  (utils: PyTorch's module of helpers)
from .transforms import (AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform,
                         SoftplusTransform, TanhTransform, Transform, identity_transform)

# NOTE: transforms.py is at its size limit, so the newer transforms live in their own modules
# and are re-exported here as graphnet.distributions.transforms.<Name>, PyTorch's path.
for _name in (_transforms_pointwise.__all__ + _transforms_structural.__all__ +
              ["CorrCholeskyTransform"]):
    setattr(transforms, _name, globals()[_name])
    transforms.__all__ = transforms.__all__ + [_name]

__all__ = ["Distribution", "ExponentialFamily", "Bernoulli", "Beta", "Binomial", "Categorical",
           "Cauchy", "Chi2",
           "ContinuousBernoulli", "Dirichlet", "ExpRelaxedCategorical", "Exponential",
           "FisherSnedecor", "Gamma", "GeneralizedPareto", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy",
           "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal", "LogitRelaxedBernoulli",
           "LowRankMultivariateNormal", "MixtureSameFamily", "Multinomial",
           "MultivariateNormal", "NegativeBinomial", "Normal", "OneHotCategorical",
           "OneHotCategoricalStraightThrough", "Pareto", "Poisson", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Uniform",
           "VonMises", "Weibull", "AbsTransform", "AffineTransform", "CatTransform",
           "ComposeTransform", "CorrCholeskyTransform", "CumulativeDistributionTransform",
           "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform",
           "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform", "StackTransform",
           "StickBreakingTransform", "TanhTransform", "Transform", "biject_to",
           "constraints", "identity_transform", "kl_divergence", "register_kl",
           "transform_to", "transforms"]

_torch_paths.install(sys.modules[__name__], globals())
