"""`graphnet.distributions`: the torch.distributions that models use every day:
`Categorical` and `OneHotCategorical` (policies, sampling tokens), `Normal` (VAEs, Gaussian
policies), `Bernoulli`, `Uniform`, `Independent`, and `kl_divergence` between them.

They are written with graphnet's tensor ops, so `log_prob`, `entropy`, `rsample` and
`kl_divergence` differentiate and compile like any other code; `sample` draws through the
global generator (or the ops' RNG inside a compiled function). Parameter checks
(`validate_args`) raise PyTorch's ValueError eagerly; a compiled function cannot read
values, so they are skipped there, as PyTorch's `validate_args=False` would.

>>> from graphnet.distributions import Categorical
>>> dist = Categorical(logits=policy(state))
>>> action = dist.sample(); loss = -dist.log_prob(action) * advantage
"""

from ._base import Distribution
from ._kinds import Bernoulli, Categorical, Independent, Normal, OneHotCategorical, Uniform
from ._kl import kl_divergence, register_kl

__all__ = ["Distribution", "Bernoulli", "Categorical", "Independent", "Normal",
           "OneHotCategorical", "Uniform", "kl_divergence", "register_kl"]
