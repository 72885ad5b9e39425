"""Extreme-value and tail families: Gumbel, Weibull and Pareto (TransformedDistributions of
Uniform / Exponential draws, built as PyTorch builds them so values and gradients agree) and
GeneralizedPareto (closed forms, sampled through its icdf)."""

from __future__ import annotations

import math

from .._tensor import Tensor
from . import constraints
from ._arg_checks import EULER_CONSTANT
from ._base import Distribution
from ._continuous import Exponential
from ._kinds import Uniform
from ._params import _broadcast, _t
from ._transformed import TransformedDistribution
from ._transforms_pointwise import PowerTransform
from .transforms import AffineTransform, ExpTransform


def _expand_own(new, old, names, batch_shape):
    """Expand the parameters a TransformedDistribution subclass keeps itself (its base is
    expanded by TransformedDistribution.expand)."""
    for name in names:
        new.__dict__[name] = old.__dict__[name].expand(*batch_shape)
    return new


class Gumbel(TransformedDistribution):
    """Gumbel(loc, scale): the maximum of many draws; loc - scale * log(-log U).

    >>> Gumbel(0.0, 1.0).rsample((5,))
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        from .. import finfo, full_like, ones_like

        self.loc, self.scale = _broadcast(_t(loc), _t(scale))
        info = finfo(self.loc.dtype)
        base = Uniform(full_like(self.loc, info.tiny), full_like(self.loc, 1 - info.eps),
                       validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(0, -ones_like(self.scale)),
                      ExpTransform().inv, AffineTransform(self.loc, -self.scale)]
        super().__init__(base, transforms, validate_args)
        self._validate_params()

    def expand(self, batch_shape, _instance=None):
        return _expand_own(super().expand(batch_shape, _instance), self, ("loc", "scale"),
                           batch_shape)

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * EULER_CONSTANT

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + EULER_CONSTANT)


class Weibull(TransformedDistribution):
    """Weibull(scale, concentration): scale * E ** (1 / concentration), E ~ Exponential(1)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        from .. import ones_like

        self.scale, self.concentration = _broadcast(_t(scale), _t(concentration))
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(self.concentration_reciprocal),
                      AffineTransform(0, self.scale)]
        super().__init__(base, transforms, validate_args)
        self._validate_params()

    def expand(self, batch_shape, _instance=None):
        return _expand_own(super().expand(batch_shape, _instance), self,
                           ("scale", "concentration", "concentration_reciprocal"), batch_shape)

    @property
    def mean(self) -> Tensor:
        return self.scale * (1 + self.concentration_reciprocal).lgamma().exp()

    @property
    def mode(self) -> Tensor:
        c = self.concentration
        return self.scale * ((c - 1) / c) ** c.reciprocal()

    @property
    def variance(self) -> Tensor:
        r = self.concentration_reciprocal
        return self.scale.pow(2) * ((1 + 2 * r).lgamma().exp() - (2 * (1 + r).lgamma()).exp())

    def entropy(self) -> Tensor:
        r = self.concentration_reciprocal
        return EULER_CONSTANT * (1 - r) + (self.scale * r).log() + 1


class Pareto(TransformedDistribution):
    """Pareto(scale, alpha): scale * exp(E), E ~ Exponential(alpha); support [scale, inf)."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = _broadcast(_t(scale), _t(alpha))
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(0, self.scale)], validate_args)
        self._validate_params()

    def expand(self, batch_shape, _instance=None):
        return _expand_own(super().expand(batch_shape, _instance), self, ("scale", "alpha"),
                           batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)   # infinite for alpha <= 1
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)   # infinite for alpha <= 2
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


class GeneralizedPareto(Distribution):
    """GeneralizedPareto(loc, scale, concentration): peaks over a threshold; concentration
    0 is the shifted exponential, below 0 the support is bounded above."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = _broadcast(_t(loc), _t(scale),
                                                              _t(concentration))
        super().__init__(tuple(self.loc.shape), (), validate_args)
        self._validate_params()

    def _safe_concentration(self):
        """(concentration == 0 up to isclose, concentration with those entries 1): the
        zero case has its own formula, and the general one must stay finite there."""
        from .. import isclose, ones_like, where

        c = self.concentration
        zero = isclose(c, c.new_zeros(()))
        return zero, where(zero, ones_like(c), c)

    def rsample(self, sample_shape=()) -> Tensor:
        from .._factories import _random_op

        u = _random_op("uniform", self._extended_shape(sample_shape), self.loc.dtype, None)
        return self.icdf(u)

    def log_prob(self, value) -> Tensor:
        from .. import ones_like, where

        value = self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, c = self._safe_concentration()
        y = 1 / c + ones_like(z)
        nonzero = where(y == 0, y, y * (c * z).log1p())
        return -self.scale.log() - where(zero, z, nonzero)

    def log_survival_function(self, value) -> Tensor:
        from .. import where

        value = self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, c = self._safe_concentration()
        return where(zero, -z, -(c * z).log1p() / c)

    def log_cdf(self, value) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value) -> Tensor:
        from .. import where

        zero, c = self._safe_concentration()
        log_u = (-value).log1p()
        nonzero = self.loc + self.scale / c * (-c * log_u).expm1()
        return where(zero, self.loc - self.scale * log_u, nonzero)

    @property
    def mean(self) -> Tensor:
        from .. import where

        valid = self.concentration < 1
        c = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - c), math.nan)

    @property
    def variance(self) -> Tensor:
        from .. import where

        valid = self.concentration < 0.5
        c = where(valid, self.concentration, 0.25)
        return where(valid, self.scale ** 2 / ((1 - c) ** 2 * (1 - 2 * c)), math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        entropy = self.scale.log() + self.concentration + 1
        return entropy.broadcast_to(tuple(self._batch_shape))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        from .. import where

        upper = where(self.concentration < 0, self.loc - self.scale / self.concentration,
                      math.inf)
        return constraints.interval(self.loc, upper)
