"""Distributions on the simplex: Dirichlet and Beta (a two-category Dirichlet), sampled as
normalised gamma draws, so `rsample` differentiates through the concentrations."""

from __future__ import annotations

from .._tensor import Tensor
from . import constraints
from ._base import Distribution
from ._kinds import _broadcast, _t
from ._random_ops import standard_gamma


def _stack(tensors, dim):
    from .. import stack

    return stack(tensors, dim)


class Dirichlet(Distribution):
    """Dirichlet(concentration) over the last dimension of `concentration`."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args)
        self._validate_params()

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        from .. import arange, where

        shifted = (self.concentration - 1).clamp(min=0.0)
        mode = shifted / shifted.sum(-1, keepdim=True)
        # NOTE: with every concentration below 1 the formula divides 0 by 0; PyTorch then
        # takes the argmax of those NaNs, the first category, and so do we.
        corner = (arange(mode.shape[-1]) == 0).to(mode.dtype)
        below = (self.concentration < 1).all(-1, keepdim=True)
        return where(below, corner.to(mode.dtype), mode)

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / \
            (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        gammas = standard_gamma(self.concentration.expand(*shape))
        return gammas / gammas.sum(-1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        from .. import xlogy

        value = self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        c = self.concentration
        k, total = c.shape[-1], c.sum(-1)
        return c.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma() - \
            ((c - 1.0) * c.digamma()).sum(-1)


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]: the first coordinate of
    Dirichlet([concentration1, concentration0])."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = _broadcast(_t(concentration1), _t(concentration0))
        self._dirichlet = Dirichlet(_stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet.batch_shape, (), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = object.__new__(Beta)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, (), self._validate_args)
        return new

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value) -> Tensor:
        value = self._validate_sample(value)
        return self._dirichlet.log_prob(_stack([value, 1.0 - value], -1))

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()
