"""The `Distribution` base class: shapes, sampling shapes and argument validation."""

from __future__ import annotations

import jax

from .._tensor import Size, Tensor


class Distribution:
    """Base class: subclasses set `batch_shape` / `event_shape` and define `log_prob`,
    `sample` or `rsample`, `entropy`, `mean`, `variance` as they have them."""

    has_rsample = False
    _validate_default = True

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        else:
            self._validate_args = Distribution._validate_default

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        Distribution._validate_default = bool(value)

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def _extended_shape(self, sample_shape=()) -> tuple:
        return tuple(Size(sample_shape)) + tuple(self._batch_shape) + tuple(self._event_shape)

    def sample(self, sample_shape=()) -> Tensor:
        from .._autograd import no_grad

        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler "
                                  f"(has_rsample is False); use sample()")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _check(self, name: str, value, ok, constraint: str) -> None:
        """PyTorch's ValueError when a parameter breaks its constraint (eagerly only)."""
        if not self._validate_args or not isinstance(value, Tensor) or \
                not isinstance(value._value, jax.Array):
            return
        if not bool(ok.all()):
            raise ValueError(
                f"Expected parameter {name} ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                f"{constraint}, but found invalid values:\n{value}")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}: {v if v.numel() == 1 else v.shape}"
                           for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def _params(self) -> dict:
        return {}
