"""ContinuousBernoulli (Loaiza-Ganem & Cunningham, 2019): the density proportional to
p ** x (1 - p) ** (1 - x) on [0, 1], for VAEs of [0, 1]-valued data. Near p = 1/2 the
normaliser's closed form divides 0 by 0, so inside `lims` PyTorch's Taylor expansions are
used instead, exactly as PyTorch does."""

from __future__ import annotations

import math

from .._factories import _random_op
from .._tensor import Tensor
from . import constraints
from ._arg_checks import check_args
from ._base import Distribution
from ._checked import concrete, tie
from ._params import _clamp_probs, _t


class ContinuousBernoulli(Distribution):
    """ContinuousBernoulli(probs or logits, lims=(0.499, 0.501)); `rsample` inverts the
    cdf of a uniform draw, so it differentiates through the parameter."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = _t(probs)
            # NOTE: checked before clamping (the clamped probs would always pass), and, as
            # in PyTorch, whenever validate_args is given at all
            if validate_args is not None:
                probs = self._checked_probs(probs)
            self.probs, self._given = _clamp_probs(probs), "probs"
            self.logits = self.probs.log() - (-self.probs).log1p()
        else:
            self.logits, self._given = _t(logits), "logits"
            self.probs = _clamp_probs(self.logits.sigmoid())
        self._lims = lims
        super().__init__(tuple(self.probs.shape), (), validate_args)
        check_args(self, (self._given,))

    def _checked_probs(self, probs: Tensor) -> Tensor:
        """`probs`, or PyTorch's ValueError when one is outside [0, 1]: at once eagerly;
        while tracing, from the program that reads the distribution (_checked.py)."""
        ok = self.arg_constraints["probs"].check(probs)
        message = "The parameter probs has invalid values"
        if not concrete(ok):
            return tie(probs, ok, message)
        if not bool(ok.all()):
            raise ValueError(message)
        return probs

    def _params(self):
        return {self._given: getattr(self, self._given)}

    @property
    def param_shape(self):
        return getattr(self, self._given).shape

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        from .. import where

        return where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(p), the normaliser, as a function of probs."""
        from .. import where

        cut = self._cut_probs()
        below_half = where(cut <= 0.5, cut, 0.0)
        above_half = where(cut >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - where(
            cut <= 0.5, (-2.0 * below_half).log1p(), (2.0 * above_half - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        from .. import where

        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        from .. import where

        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + \
            1.0 / ((-cut).log1p() - cut.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._outside_unstable_region(), var, taylor)

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape=()) -> Tensor:
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()) -> Tensor:
        u = _random_op("uniform", self._extended_shape(sample_shape), self.probs.dtype, None)
        return self.icdf(u)

    def log_prob(self, value) -> Tensor:
        from ..nn.functional import binary_cross_entropy_with_logits
        from ._params import _broadcast

        value = self._validate_sample(value)
        logits, value = _broadcast(self.logits, _t(value, self.logits))
        return -binary_cross_entropy_with_logits(logits, value, reduction="none") + \
            self._cont_bern_log_norm()

    def cdf(self, value) -> Tensor:
        from .. import ones_like, where, zeros_like

        value = self._validate_sample(value)
        value = _t(value, self.probs)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = where(self._outside_unstable_region(), cdfs, value)
        return where(value <= 0.0, zeros_like(value),
                     where(value >= 1.0, ones_like(value), unbounded))

    def icdf(self, value) -> Tensor:
        from .. import where

        cut = self._cut_probs()
        inverted = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / \
            (cut.log() - (-cut).log1p())
        return where(self._outside_unstable_region(), inverted, value)

    def entropy(self) -> Tensor:
        log_probs0, log_probs1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0
