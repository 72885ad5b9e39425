"""`probs` and `logits` as PyTorch's repr sees them.

PyTorch computes the parameter not given (Categorical(logits=...).probs) lazily, on its first
read, and only then stores it in the instance's `__dict__`, where `Distribution.__repr__`
looks: `Categorical(logits: ...)` becomes `Categorical(probs: ..., logits: ...)` once probs
was read, by the user or by a method that uses it (mean, sample, entropy ...). graphnet
computes both at construction; `ShownParameter` records the reads instead, so the repr
lists what PyTorch's would."""

from __future__ import annotations


class ShownParameter:
    """A parameter attribute (kept in the instance's `__dict__`) whose reads are recorded in
    `_shown` once the constructor has set it; before that, reads are the constructor's own."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        state = obj.__dict__
        shown = state.get("_shown")
        if shown is not None and self.name not in shown:
            state["_shown"] = shown | {self.name}
        try:
            return state[self.name]
        except KeyError:
            raise AttributeError(f"{type(obj).__name__!r} object has no attribute "
                                 f"{self.name!r}") from None

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.name] = value


class ShowsReadParams:
    """Mixin for a distribution given by `probs` or `logits` (`self._given`) whose repr shows
    the given one and each other one read since."""

    probs = ShownParameter()
    logits = ShownParameter()

    def _start_showing(self) -> None:
        """Called at the end of the constructor: from now on, reads show a parameter."""
        self.__dict__["_shown"] = frozenset((self._given,))

    def _show(self, name: str) -> None:
        """Show `name` as read (a method that reads it in PyTorch, and the other one here)."""
        self.__dict__["_shown"] = self.__dict__.get("_shown", frozenset()) | {name}

    @property
    def _param(self):
        """The given parameter, read without showing the other (PyTorch's `_param`)."""
        return self.__dict__[self._given]

    def _params(self) -> dict:
        shown = self.__dict__.get("_shown", (self._given,))
        return {k: self.__dict__[k] for k in self.arg_constraints if k in shown}
