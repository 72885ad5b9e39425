"""The distributions themselves, each with PyTorch's parameterisations and formulas."""

from __future__ import annotations

import math

from .. import _sampling
from .._factories import _random_op, arange
from .._tensor import Tensor
from . import constraints
from ._base import Distribution
from ._categorical import Categorical, OneHotCategorical  # noqa: F401  (re-exported)
from ._params import _broadcast, _clamp_probs, _eps, _normalised, _t  # noqa: F401
from ._shown_params import ShowsReadParams


class Normal(Distribution):
    """The Gaussian N(loc, scale^2), reparameterised: `rsample` differentiates through loc
    and scale."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        loc, scale = _t(loc), _t(scale)
        self.loc, self.scale = _broadcast(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)
        self._check("loc", loc, loc == loc, "Real()")
        self._check("scale", scale, scale > 0, "GreaterThan(lower_bound=0.0)")

    def _params(self):
        return {"loc": self.loc, "scale": self.scale}

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        eps = _random_op("normal", self._extended_shape(sample_shape), self.loc.dtype, None)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        value = _t(value, self.loc)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - \
            math.log(math.sqrt(2 * math.pi))

    def cdf(self, value) -> Tensor:
        value = self._validate_sample(value)
        value = _t(value, self.loc)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value) -> Tensor:
        value = _t(value, self.loc)
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Bernoulli(ShowsReadParams, Distribution):
    """1 with probability `probs` (or sigmoid(`logits`)), else 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = _t(probs)
            self.logits = _clamp_probs(self.probs).log() - (1 - _clamp_probs(self.probs)).log()
            self._given = "probs"
        else:
            self.logits = _t(logits)
            self.probs = self.logits.sigmoid()
            self._given = "logits"
        super().__init__(tuple(self.probs.shape), (), validate_args)
        if probs is not None:
            self._check("probs", self.probs, (self.probs >= 0) & (self.probs <= 1),
                        "Interval(lower_bound=0.0, upper_bound=1.0)")
        else:   # a NaN logit (a policy net gone NaN) raises, as PyTorch's Real()
            self._check("logits", self.logits, self.logits == self.logits, "Real()")
        self._start_showing()

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    @property
    def mode(self) -> Tensor:
        """1 where probs > 1/2, 0 where below; NaN at exactly 1/2 (no single mode)."""
        ones = (self.probs >= 0.5).to(self.probs.dtype)
        return ones.masked_fill(self.probs == 0.5, float("nan"))

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(2, dtype=self._param.dtype).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values

    def sample(self, sample_shape=()) -> Tensor:
        probs = self.probs.detach().expand(*self._extended_shape(sample_shape))
        return _sampling.bernoulli(probs)

    def log_prob(self, value) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits

        value = self._validate_sample(value)
        logits, value = _broadcast(self.logits, _t(value, self.logits))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits

        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Uniform(Distribution):
    """Uniform on [low, high)."""

    arg_constraints = {"low": constraints.dependent(), "high": constraints.dependent()}

    @constraints.dependent_property
    def support(self):
        return constraints.interval(self.low, self.high)

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _broadcast(_t(low), _t(high))
        super().__init__(tuple(self.low.shape), (), validate_args)
        self._check("low", self.low, self.low < self.high, "LessThan(upper_bound=high)")

    def _params(self):
        return {"low": self.low, "high": self.high}

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    @property
    def mode(self) -> Tensor:
        return self.high * float("nan")   # every point is a mode: none is returned

    def rsample(self, sample_shape=()) -> Tensor:
        u = _random_op("uniform", self._extended_shape(sample_shape), self.low.dtype, None)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        value = _t(value, self.low)
        inside = ((self.low <= value) & (value < self.high)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        value = self._validate_sample(value)
        value = _t(value, self.low)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value) -> Tensor:
        return _t(value, self.low) * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Independent(Distribution):
    """Reinterpret the last `reinterpreted_batch_ndims` batch dims of `base_distribution` as
    event dims: log_prob and entropy sum over them (a diagonal Gaussian over vectors)."""

    arg_constraints: dict = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims: int, validate_args=None):
        n = reinterpreted_batch_ndims
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        if n > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape), actual {n} vs "
                             f"{len(base_distribution.batch_shape)}")
        split = len(shape) - len(base_distribution.event_shape) - n
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        self.has_rsample = base_distribution.has_rsample
        super().__init__(shape[:split], shape[split:], validate_args)

    @property
    def support(self):
        base = self.base_dist.support
        return None if base is None else \
            constraints.independent(base, self.reinterpreted_batch_ndims)

    def expand(self, batch_shape, _instance=None):
        n = self.reinterpreted_batch_ndims
        base = self.base_dist.expand(tuple(batch_shape) + tuple(self._event_shape[:n]))
        return Independent(base, n, self._validate_args)

    def _sum(self, t: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return t.sum(tuple(range(-n, 0))) if n else t

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return self._sum(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum(self.base_dist.entropy())

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
