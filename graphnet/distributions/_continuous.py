"""Univariate continuous distributions with closed forms: Exponential, Laplace, Cauchy,
Gamma, Chi2 and StudentT, with PyTorch's parameterisations, formulas and samplers."""

from __future__ import annotations

import math

from .._factories import _random_op, full
from .._tensor import Tensor
from . import constraints
from ._base import Distribution
from ._kinds import _broadcast, _t
from ._random_ops import standard_gamma


def _tiny(t: Tensor) -> float:
    from .. import finfo

    return finfo(t.dtype).tiny


def _eps_of(t: Tensor) -> float:
    from .. import finfo

    return finfo(t.dtype).eps


def _clamp_data(value: Tensor, lo: float) -> Tensor:
    """`value.detach().clamp_(min=lo)` as PyTorch does after a gamma draw: the data is
    clamped, the gradient is the unclamped sample's."""
    return value + (value.clamp(min=lo) - value).detach()


def _uniform(d: Distribution, sample_shape, like: Tensor, low=0.0, high=1.0) -> Tensor:
    return _random_op("uniform", d._extended_shape(sample_shape), like.dtype, None, low, high)


class _LocScale(Distribution):
    """Shared constructor of the (loc, scale) families."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast(_t(loc), _t(scale))
        super().__init__(tuple(self.loc.shape), (), validate_args)
        self._validate_params()

    @property
    def mode(self) -> Tensor:
        return self.loc


class Exponential(Distribution):
    """Exponential(rate): waiting times, density rate * exp(-rate * x) on x >= 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        self.rate = _t(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)
        self._validate_params()

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return self.rate.new_zeros(tuple(self.rate.shape))

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()) -> Tensor:
        u = _uniform(self, sample_shape, self.rate)
        return -(-u).log1p() / self.rate

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value) -> Tensor:
        value = self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value) -> Tensor:
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()


class Laplace(_LocScale):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale)."""

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=()) -> Tensor:
        u = _uniform(self, sample_shape, self.loc, _eps_of(self.loc) - 1, 1.0)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value) -> Tensor:
        value = self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * \
            (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


class Cauchy(_LocScale):
    """Cauchy(loc, scale): no mean (NaN) and infinite variance, as in PyTorch."""

    @property
    def mean(self) -> Tensor:
        return full(self._extended_shape(), float("nan"), dtype=self.loc.dtype)

    @property
    def variance(self) -> Tensor:
        return full(self._extended_shape(), float("inf"), dtype=self.loc.dtype)

    def rsample(self, sample_shape=()) -> Tensor:
        u = _uniform(self, sample_shape, self.loc)
        return self.loc + (math.pi * (u - 0.5)).tan() * self.scale

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - \
            (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value) -> Tensor:
        value = self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class Gamma(Distribution):
    """Gamma(concentration, rate); `rsample` is implicitly reparameterised, so it
    differentiates through the concentration as well as the rate."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = _broadcast(_t(concentration), _t(rate))
        super().__init__(tuple(self.rate.shape), (), validate_args)
        self._validate_params()

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(*shape)) / self.rate.expand(*shape)
        return _clamp_data(value, _tiny(value))

    def log_prob(self, value) -> Tensor:
        value = _t(value, self.rate)
        value = self._validate_sample(value)
        return _xlogy(self.concentration, self.rate) + _xlogy(self.concentration - 1, value) \
            - self.rate * value - self.concentration.lgamma()

    def cdf(self, value) -> Tensor:
        from ..special import gammainc

        value = _t(value, self.rate)
        value = self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()


def _xlogy(x: Tensor, y) -> Tensor:
    from .. import xlogy

    return xlogy(x, y)


class Chi2(Gamma):
    """Chi-squared with `df` degrees of freedom: Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        df = _t(df)
        super().__init__(0.5 * df, df.new_full((), 0.5).expand(*df.shape), validate_args)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2

    def _validate_params(self) -> None:
        self._check("df", self.df, self.df > 0, repr(constraints.positive))

    def _params(self):
        return {}


class StudentT(Distribution):
    """Student's t with `df` degrees of freedom, shifted by `loc` and scaled by `scale`."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = _broadcast(_t(df), _t(loc), _t(scale))
        self._chi2 = Chi2(self.df, validate_args=validate_args)   # checks df first, as torch
        super().__init__(tuple(self.df.shape), (), validate_args)
        self._validate_params()

    @property
    def mean(self) -> Tensor:
        from .. import where

        return where(self.df <= 1, float("nan"), self.loc)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        from .. import where

        df = self.df
        # NOTE: the unselected branch's df stands at 3: at df == 2 its inf derivative, times
        # a zero cotangent, made the gradients NaN
        safe = where(df > 2, df, 3.0)
        finite = self.scale.pow(2) * safe / (safe - 2)
        var = where(df > 2, finite, float("inf"))
        return where(df <= 1, float("nan"), var)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = _random_op("normal", shape, self.df.dtype, None)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + \
            (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma()
        return -0.5 * (self.df + 1.0) * (y.pow(2) / self.df).log1p() - z

    def entropy(self) -> Tensor:
        from .. import lgamma

        df = self.df
        lbeta = lgamma(0.5 * df) + math.lgamma(0.5) - lgamma(0.5 * (df + 1))
        return self.scale.log() + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() -
                                                    (0.5 * df).digamma()) + \
            0.5 * df.log() + lbeta
