"""FisherSnedecor(df1, df2): the F distribution, a ratio of scaled chi-squares, sampled as a
ratio of two Gamma draws, so `rsample` differentiates through both degrees of freedom."""

from __future__ import annotations

import math

from .._tensor import Tensor
from . import constraints
from ._base import Distribution
from ._continuous import Gamma
from ._params import _broadcast, _t


def _where_valid(valid: Tensor, value: Tensor, safe: float) -> Tensor:
    """`value` where valid, `safe` elsewhere: the formulas below are evaluated only where
    they are finite, so NaN entries get a zero gradient (PyTorch writes NaN into a copy)."""
    from .. import where

    return where(valid, value, safe)


class FisherSnedecor(Distribution):
    """F(df1, df2) on the positive reals: mean df2 / (df2 - 2) for df2 > 2, else NaN."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = _broadcast(_t(df1), _t(df2))
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(tuple(self.df1.shape), (), validate_args)
        self._validate_params()

    @property
    def mean(self) -> Tensor:
        valid = self.df2 > 2
        df2 = _where_valid(valid, self.df2, 3.0)
        return _where_valid(valid, df2 / (df2 - 2), math.nan)

    @property
    def mode(self) -> Tensor:
        valid = self.df1 > 2
        df1 = _where_valid(valid, self.df1, 3.0)
        return _where_valid(valid, (df1 - 2) / df1 * self.df2 / (self.df2 + 2), math.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.df2 > 4
        df2 = _where_valid(valid, self.df2, 5.0)
        var = 2 * df2.pow(2) * (self.df1 + df2 - 2) / \
            (self.df1 * (df2 - 2).pow(2) * (df2 - 4))
        return _where_valid(valid, var, math.nan)

    def rsample(self, sample_shape=()) -> Tensor:
        from .. import finfo

        shape = self._extended_shape(sample_shape)
        # X1 ~ Gamma(df1 / 2, df1), X2 ~ Gamma(df2 / 2, df2): X1 / X2 ~ F(df1, df2)
        x1 = self._gamma1.rsample(sample_shape).reshape(shape)
        x2 = self._gamma2.rsample(sample_shape).reshape(shape)
        tiny = finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * _t(value, self.df1).log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3
