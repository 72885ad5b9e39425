"""The `Distribution` base class: shapes, sampling shapes and argument validation."""

from __future__ import annotations

import jax

from .._tensor import Size, Tensor
from ._checked import concrete, tie, tie_state


def _eager(value: Tensor) -> bool:
    """Whether `value`'s numbers can be read now (not while a graph is traced)."""
    from .._mode import tracing

    return isinstance(value._value, jax.Array) and not tracing()


class Distribution:
    """Base class: subclasses set `batch_shape` / `event_shape` and define `log_prob`,
    `sample` or `rsample`, `entropy`, `mean`, `variance` as they have them."""

    has_rsample = False
    has_enumerate_support = False
    _validate_default = True
    arg_constraints: dict = {}
    support = None

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        else:
            self._validate_args = Distribution._validate_default
        # NOTE: graphnet's own classes check their parameters themselves once they are set;
        # a user's subclass sets them before this call, as PyTorch's do, and is checked here
        # (before, `MyExp(rate=-1)` went on and log_prob gave NaN instead of the ValueError)
        if not type(self).__module__.startswith(__package__ + "."):
            self._validate_params()

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

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement variance")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement entropy")

    def cdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement cdf")

    def icdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement icdf")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement enumerate_support")

    def expand(self, batch_shape, _instance=None) -> "Distribution":
        """The same distribution over a larger batch: every parameter tensor whose leading
        dims are the batch is broadcast to `batch_shape` (no copy)."""
        batch_shape = Size(batch_shape)
        new = object.__new__(type(self)) if _instance is None else _instance
        old = tuple(self._batch_shape)
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor) and tuple(value.shape[:len(old)]) == old:
                value = value.expand(*batch_shape, *value.shape[len(old):])
            elif isinstance(value, Distribution) and tuple(value.batch_shape) == old:
                # a wrapped distribution (OneHotCategorical's Categorical ...) that
                # sample/log_prob/entropy delegate to grows with the outer one
                value = value.expand(batch_shape)
            new.__dict__[name] = value
        new._batch_shape = batch_shape
        return new

    def _get_checked_instance(self, cls, _instance=None):
        """A blank instance for `expand` to fill (PyTorch's helper of the same name): a
        subclass with its own `__init__` must define its own `expand`."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that "
                                      f"defines a custom __init__ method must also define a "
                                      f"custom .expand() method.")
        return object.__new__(type(self)) if _instance is None else _instance

    def _validate_params(self) -> None:
        """Check each parameter named in `arg_constraints` (PyTorch's __init__ check)."""
        from .constraints import is_dependent

        for name, constraint in self.arg_constraints.items():
            value = self.__dict__.get(name)
            if value is None or is_dependent(constraint) or not self._validate_args or \
                    not isinstance(value, Tensor):
                continue
            self._check(name, value, constraint.check(value), repr(constraint))

    def _validate_sample(self, value):
        """`value`, after PyTorch's checks of a `log_prob` argument: a tensor, of the event
        shape, broadcastable with the batch, in the support. Callers go on with the result:
        while tracing, it carries the support check into the program (_checked.py)."""
        if not self._validate_args:
            return value
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event = tuple(self._event_shape)
        shape = tuple(value.shape)
        if shape[len(shape) - len(event):] != event:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        actual, expected = shape[::-1], self._extended_shape()[::-1]
        for i, j in zip(actual, expected):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{Size(shape)} vs {Size(self._extended_shape())}.")
        if self.support is None:
            return value
        ok = self.support.check(value)
        message = (f"Expected value argument ({type(value).__name__} of shape {shape}) to be "
                   f"within the support ({self.support!r}) of the distribution {self!r}, but "
                   f"found invalid values")
        if not concrete(ok):
            return tie(value, ok, message + ":")
        if not bool(ok.all()):
            raise ValueError(f"{message}:\n{value}")
        return value

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
        """PyTorch's ValueError when a parameter breaks its constraint: at once eagerly;
        while tracing, from the program (every tensor of the distribution carries the
        check, _checked.py)."""
        if not self._validate_args or not isinstance(value, Tensor):
            return
        message = (f"Expected parameter {name} ({type(value).__name__} of shape "
                   f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                   f"{constraint}, but found invalid values")
        if not concrete(ok):
            tie_state(self, ok, message + ":")
        elif not bool(ok.all()):
            raise ValueError(f"{message}:\n{value}")

    def __repr__(self) -> str:
        # NOTE: a traced parameter has no number to show yet: its shape stands in
        params = ", ".join(f"{k}: {v if v.numel() == 1 and concrete(v) else v.shape}"
                           for k, v in self._params().items())
        return f"{type(self).__name__}({params})"

    def _params(self) -> dict:
        return {k: self.__dict__[k] for k in self.arg_constraints if k in self.__dict__}
