"""More count and category distributions: Geometric, NegativeBinomial, Multinomial and
OneHotCategoricalStraightThrough, with PyTorch's parameterisations and formulas. Their
samples are floats, as PyTorch's, and carry no gradient (except the straight-through
estimator's)."""

from __future__ import annotations

import math

from .. import _sampling
from .._factories import _random_op
from .._tensor import Tensor
from . import constraints
from ._arg_checks import check_args
from ._base import Distribution
from ._checked import concrete, tie_state
from ._categorical import Categorical, OneHotCategorical
from ._params import _broadcast, _t
from ._transformed import _binary_params


# (probs, logits, name given) of a two-outcome parameter: _transformed._binary_params
_binary = _binary_params


class Geometric(Distribution):
    """Failures before the first success, success probability `probs` (or
    sigmoid(`logits`)): P(k) = (1 - p) ** k * p, k = 0, 1, ..."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        self.probs, self.logits, self._given = _binary(probs, logits)
        super().__init__(tuple(self.probs.shape), (), validate_args)
        check_args(self, (self._given,))
        if self._given == "probs" and self._validate_args:   # PyTorch's check beyond [0, 1]
            valid = self.probs > 0
            message = (f"Expected parameter probs ({type(self.probs).__name__} of shape "
                       f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive "
                       f"but found invalid values:")
            if not concrete(valid):   # while tracing: the program raises it (_checked.py)
                tie_state(self, valid, message)
            elif not bool(valid.all()):
                raise ValueError(f"{message}\n{self.probs.detach()[~valid]}")

    def _params(self):
        return {self._given: getattr(self, self._given)}

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        from .. import zeros_like

        return zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()) -> Tensor:
        from .. import finfo

        probs = self.probs.detach()
        u = _random_op("uniform", self._extended_shape(sample_shape), probs.dtype, None,
                       finfo(probs.dtype).tiny, 1.0)
        return (u.log() / (-probs).log1p()).floor()

    def log_prob(self, value) -> Tensor:
        from .. import where

        value = self._validate_sample(value)
        value, probs = _broadcast(_t(value, self.probs), self.probs)
        # NOTE: P(0) = 1 when probs == 1: 0 * log(0) taken as 0, as PyTorch does
        probs = where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits

        bce = binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
        return bce / self.probs


class NegativeBinomial(Distribution):
    """Successes before `total_count` failures, success probability `probs` (or
    sigmoid(`logits`)); sampled as a Gamma-Poisson mixture."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        probs_, logits_, self._given = _binary(probs, logits)
        given = probs_ if self._given == "probs" else logits_
        self.total_count, param = _broadcast(_t(total_count, given), given)
        self.total_count = self.total_count.to(param.dtype)
        self.probs, self.logits = _broadcast(probs_, logits_)
        super().__init__(tuple(param.shape), (), validate_args)
        check_args(self, ("total_count", self._given))

    def _params(self):
        return {"total_count": self.total_count, self._given: getattr(self, self._given)}

    @property
    def param_shape(self):
        return getattr(self, self._given).shape

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape=()) -> Tensor:
        from ._continuous import Gamma

        # NOTE: not validated: total_count may be 0, outside Gamma's support
        gamma = Gamma(self.total_count.detach(), (-self.logits.detach()).exp(),
                      validate_args=False)
        return _sampling.poisson(gamma.sample(sample_shape))

    def log_prob(self, value) -> Tensor:
        from ..nn.functional import logsigmoid

        value = self._validate_sample(value)
        n = self.total_count
        unnormalized = n * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normalization = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        # NOTE: total_count == 0 and value == 0 has probability 1, but lgamma(0) is inf
        normalization = normalization.masked_fill(n + value == 0.0, 0.0)
        return unnormalized - normalization


class Multinomial(Distribution):
    """Counts of each of K categories in `total_count` independent Categorical draws.

    >>> Multinomial(10, probs=graphnet.tensor([0.2, 0.3, 0.5])).sample()   # sums to 10
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        super().__init__(self._categorical.batch_shape,
                         tuple(self._categorical.param_shape[-1:]), validate_args)
        check_args(self)

    def _params(self):
        return {}

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        from ..nn.functional import one_hot

        draws = self._categorical.sample((self.total_count,) + tuple(sample_shape))
        counts = one_hot(draws, self._event_shape[0]).sum(0)
        return counts.reshape(self._extended_shape(sample_shape)).to(self.probs.dtype)

    def log_prob(self, value) -> Tensor:
        from .. import where

        value = self._validate_sample(value)
        logits, value = _broadcast(self.logits, _t(value, self.logits))
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        logits = where((value == 0) & (logits == -math.inf), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

    def entropy(self) -> Tensor:
        from .. import arange
        from ._counts import Binomial

        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        binomial = Binomial(n, probs=self.probs, validate_args=False)
        support = arange(1, n + 1, dtype=self.probs.dtype).reshape(
            (-1,) + (1,) * len(binomial.batch_shape))
        weights = (support + 1).lgamma()
        term2 = (binomial.log_prob(support).exp() * weights).sum((0, -1))
        return term1 + term2


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose `rsample` is the straight-through estimator: the value is a
    one-hot sample, the gradient that of `probs` (Bengio et al., 2013)."""

    has_rsample = True

    def rsample(self, sample_shape=()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
