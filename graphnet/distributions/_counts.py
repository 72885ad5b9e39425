"""Count distributions: Poisson and Binomial, sampled with JAX's samplers (no gradient, as
in PyTorch); their values are floats, as PyTorch returns them."""

from __future__ import annotations

from .._tensor import Tensor
from .. import _sampling
from . import constraints
from ._base import Distribution, _eager
from ._kinds import _broadcast, _clamp_probs, _t
from ._random_ops import binomial_counts


class Poisson(Distribution):
    """Poisson(rate): counts with mean and variance `rate`."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        self.rate = _t(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)
        self._validate_params()

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=()) -> Tensor:
        return _sampling.poisson(self.rate.detach().expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value) -> Tensor:
        from .. import xlogy

        value = self._validate_sample(value)
        rate, value = _broadcast(self.rate, _t(value, self.rate))
        return xlogy(value, rate) - rate - (value + 1).lgamma()


def _clamp_by_zero(x: Tensor) -> Tensor:
    # NOTE: max(x, 0) whose gradient at 0 is 1/2, PyTorch's choice
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    """Binomial(total_count, probs or logits): successes in `total_count` trials."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = _t(probs if probs is not None else logits)
        self.total_count, param = _broadcast(_t(total_count, given), given)
        self.total_count = self.total_count.to(param.dtype)
        if probs is not None:
            self.probs, self._given = param, "probs"
            clamped = _clamp_probs(param)
            self.logits = clamped.log() - (-clamped).log1p()
        else:
            self.logits, self._given = param, "logits"
            self.probs = param.sigmoid()
        super().__init__(tuple(param.shape), (), validate_args)
        self._check("total_count", self.total_count,
                    constraints.nonnegative_integer.check(self.total_count),
                    repr(constraints.nonnegative_integer))
        self._check(self._given, param, self.arg_constraints[self._given].check(param),
                    repr(self.arg_constraints[self._given]))

    def _params(self):
        return {"total_count": self.total_count, self._given: getattr(self, self._given)}

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return binomial_counts(self.total_count.expand(*shape), self.probs.expand(*shape))

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        n = self.total_count
        log_factorial_n = (n + 1).lgamma()
        log_factorial_k = (value + 1).lgamma()
        log_factorial_nmk = (n - value + 1).lgamma()
        # NOTE: n * log(1 + exp(logits)), computed without overflow for large |logits|
        normalize = n * _clamp_by_zero(self.logits) + \
            n * (-self.logits.abs()).exp().log1p() - log_factorial_n
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize

    def enumerate_support(self, expand: bool = True) -> Tensor:
        from .. import arange

        total = self._homogeneous_count("enumerate_support")
        values = arange(1 + total, dtype=self.probs.dtype)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values

    def entropy(self) -> Tensor:
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def _homogeneous_count(self, what: str) -> int:
        from .._errors import TraceError
        if not _eager(self.total_count):
            raise TraceError(f"Binomial.{what}() reads total_count's values to size its "
                             f"result, which a compiled function cannot do: call it "
                             f"eagerly, outside graphnet.compile")
        total = int(self.total_count.max())
        if not int(self.total_count.min()) == total:
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      f"`{what}`.")
        return total
