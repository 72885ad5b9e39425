"""Categorical and OneHotCategorical: one of K categories per batch entry, as an index or a
one-hot vector."""

from __future__ import annotations

from .._factories import _random_op, arange, eye, full
from .._settings import finfo
from .._tensor import Tensor
from . import constraints
from ._base import Distribution
from ._params import _broadcast, _normalised
from ._shown_params import ShowsReadParams


class Categorical(ShowsReadParams, Distribution):
    """One of K categories per batch entry, from `probs` (any non-negative weights) or
    `logits` (unnormalised log-probabilities) over the last dimension."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(
        constraints.real, 1)}

    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._given = "probs" if probs is not None else "logits"
        raw = probs if probs is not None else logits
        if raw is not None and raw.dim() < 1:
            raise ValueError("`probs` parameter must be at least one-dimensional.")
        self.probs, self.logits = _normalised(probs, logits)
        self._num_events = self.probs.shape[-1]
        super().__init__(tuple(self.probs.shape[:-1]), (), validate_args)
        # NOTE: the normalised parameters, as PyTorch checks them: all-zero probs, and NaN or
        # inf logits (a policy net gone NaN), normalise to NaN and raise
        if probs is not None:
            self._check("probs", self.probs, (self.probs >= 0).all(-1) & (
                (self.probs.sum(-1) - 1).abs() < 1e-6), "Simplex()")
        else:
            self._check("logits", self.logits, (self.logits == self.logits).all(-1),
                        "IndependentConstraint(Real(), 1)")
        self._start_showing()

    @constraints.dependent_property(is_discrete=True)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self) -> Tensor:
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)   # the first of tied categories, as PyTorch

    def sample(self, sample_shape=()) -> Tensor:
        shape = tuple(sample_shape) + tuple(self._batch_shape)
        logits = self.__dict__["logits"]
        self._show("probs")   # NOTE: PyTorch samples from probs (graphnet: Gumbel-max on logits)
        u = _random_op("uniform", shape + (self._num_events,), logits.dtype, None)
        gumbel = -(-(u.clamp(min=1e-20)).log()).log()
        return (logits.detach() + gumbel).argmax(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = _broadcast(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)   # -inf logits: 0 * min
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """Categorical draws as one-hot vectors."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(
        constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(self._categorical.batch_shape, self.probs.shape[-1:], validate_args)

    def _params(self):
        return {}   # PyTorch's probs and logits are properties here: its repr shows neither

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return _one_hot(self._categorical.mode, self.probs)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        return _one_hot(self._categorical.sample(sample_shape), self.probs)

    def log_prob(self, value: Tensor) -> Tensor:
        value = self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The K one-hot vectors along a new first dim (expanded over the batch)."""
        k = self._event_shape[0]
        values = eye(k, dtype=self.probs.dtype).reshape(
            (k,) + (1,) * len(self._batch_shape) + (k,))
        return values.expand(k, *self._batch_shape, k) if expand else values


def _one_hot(index: Tensor, like: Tensor) -> Tensor:
    from ..nn.functional import one_hot

    return one_hot(index, like.shape[-1]).to(like.dtype)
