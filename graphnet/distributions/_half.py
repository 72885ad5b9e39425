"""HalfNormal and HalfCauchy: |X| for X ~ Normal(0, scale) or Cauchy(0, scale), built as
PyTorch builds them (a TransformedDistribution through AbsTransform), with their closed
forms for the density, cdf and moments."""

from __future__ import annotations

import math

from .._tensor import Tensor
from . import constraints
from ._arg_checks import check_args
from ._continuous import Cauchy
from ._kinds import Normal
from ._params import _t
from ._transformed import TransformedDistribution
from ._transforms_pointwise import AbsTransform


class _Half(TransformedDistribution):
    """Shared code: the base is the full symmetric distribution around 0."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, base, validate_args=None):
        super().__init__(base, AbsTransform(), validate_args)
        check_args(self)

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mode(self) -> Tensor:
        from .. import zeros_like

        return zeros_like(self.scale)

    def log_prob(self, value) -> Tensor:
        from .. import where

        value = self._validate_sample(value)
        value = _t(value, self.scale)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, log_prob, -math.inf)

    def cdf(self, value) -> Tensor:
        value = self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Half):
    """|X| for X ~ Normal(0, scale): a positive scale prior.

    >>> HalfNormal(graphnet.tensor([1.0])).log_prob(graphnet.tensor([0.5]))
    """

    def __init__(self, scale, validate_args=None):
        scale = _t(scale)
        super().__init__(Normal(scale.new_zeros(()), scale, validate_args=False),
                         validate_args)

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)


class HalfCauchy(_Half):
    """|X| for X ~ Cauchy(0, scale): a heavy-tailed positive prior (infinite mean)."""

    def __init__(self, scale, validate_args=None):
        scale = _t(scale)
        super().__init__(Cauchy(scale.new_zeros(()), scale, validate_args=False),
                         validate_args)

    @property
    def mean(self) -> Tensor:
        from .. import full

        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance
