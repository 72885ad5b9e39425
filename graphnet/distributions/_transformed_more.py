"""InverseGamma, Kumaraswamy and LogisticNormal: TransformedDistributions built as PyTorch
builds them (Gamma through x ** -1; Uniform through two powers; Normal through stick
breaking), with their closed-form moments and entropies."""

from __future__ import annotations

import math

from .._tensor import Tensor
from . import constraints
from ._arg_checks import EULER_CONSTANT
from ._continuous import Gamma
from ._extreme import _expand_own
from ._kinds import Normal, Uniform
from ._params import _broadcast, _t
from ._transformed import TransformedDistribution
from ._transforms_pointwise import PowerTransform, StickBreakingTransform
from .transforms import AffineTransform


class InverseGamma(TransformedDistribution):
    """1 / X for X ~ Gamma(concentration, rate): a conjugate prior for a variance."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        super().__init__(base, PowerTransform(-base.rate.new_ones(())), validate_args)

    @property
    def concentration(self) -> Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        from .. import where

        return where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        from .. import where

        c = self.concentration
        result = self.rate.square() / ((c - 1).square() * (c - 2))
        return where(c > 2, result, math.inf)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c + self.rate.log() + c.lgamma() - (1 + c) * c.digamma()


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[X ** n] = b * B(1 + n / a, b), through lgamma."""
    arg = 1 + n / a
    return b * (arg.lgamma() + b.lgamma() - (arg + b).lgamma()).exp()


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(concentration1, concentration0) on (0, 1): Beta-like, with a closed-form
    cdf, so `rsample` is a transform of a uniform draw."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        from .. import full_like

        self.concentration1, self.concentration0 = _broadcast(_t(concentration1),
                                                              _t(concentration0))
        c1, c0 = self.concentration1, self.concentration0
        base = Uniform(full_like(c0, 0), full_like(c0, 1), validate_args=validate_args)
        transforms = [PowerTransform(c0.reciprocal()), AffineTransform(1.0, -1.0),
                      PowerTransform(c1.reciprocal())]
        super().__init__(base, transforms, validate_args)
        self._validate_params()

    def expand(self, batch_shape, _instance=None):
        return _expand_own(super().expand(batch_shape, _instance), self,
                           ("concentration1", "concentration0"), batch_shape)

    @property
    def mean(self) -> Tensor:
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        from .. import where

        c1, c0 = self.concentration1, self.concentration0
        # NOTE: PyTorch's formula, in log space; NaN where either concentration is below 1
        log_mode = c0.reciprocal() * (-c0).log1p() - (-c0 * c1).log1p()
        return where((c0 < 1) | (c1 < 1), math.nan, log_mode).exp()

    @property
    def variance(self) -> Tensor:
        second = _kumaraswamy_moment(self.concentration1, self.concentration0, 2)
        return second - self.mean.pow(2)

    def entropy(self) -> Tensor:
        c1, c0 = self.concentration1, self.concentration0
        t1, t0 = 1 - c1.reciprocal(), 1 - c0.reciprocal()
        h0 = (c0 + 1).digamma() + EULER_CONSTANT
        return t0 + t1 * h0 - c1.log() - c0.log()


class LogisticNormal(TransformedDistribution):
    """The stick-breaking image of Normal(loc, scale) over K dims: a distribution on the
    (K + 1)-simplex with Gaussian logits."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand([1])
        super().__init__(base, StickBreakingTransform(), validate_args)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale
