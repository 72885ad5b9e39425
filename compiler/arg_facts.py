"""A fact of a tensor argument's values that decides what the traced code computes.

Some library code picks its work by the values of its input, as PyTorch's does:
`AdaptiveLogSoftmaxWithLoss` evaluates only the tail clusters some target falls in, and only
those clusters' weights get a gradient (the others keep `.grad` None, so Adam and momentum
leave them alone). A static graph has no argument values, but the trace's call has: the
fact (which clusters are used) is computed from them, the program is built for it, and each
later call computes the fact of its own argument and traces again when it differs, as the
`.grad` presence of an argument is checked (compiler/arg_grads.py). Only a tensor passed as an
argument has values at hand; for one the traced code computes, `argument_fact` answers None
and the caller decides what to do without the fact."""

from __future__ import annotations

import numpy as np

from . import arg_grads


class ArgumentFact:
    """`fact(values)` of the tensor argument at leaf position `index` was `seen` when traced."""

    def __init__(self, index: int, name: str, what: str, fact, seen):
        self.index, self.name, self.what, self.fact, self.seen = index, name, what, fact, seen

    def failure(self, leaves) -> str | None:
        try:
            now = self.fact(np.asarray(leaves[self.index]._value))
        except Exception:           # an argument of another kind: trace again
            return f"{self.what} of {self.name} could not be computed"
        if now != self.seen:
            return f"{self.what} of {self.name}: {self.seen} when traced, {now} now"
        return None


class ArgumentFactReads:
    """The tracer's side of `graphnet._host_reads.argument_fact` (a mixin)."""

    def argument_fact(self, t, what: str, fact):
        i = arg_grads.arg_index(self, t)
        rec = self.lifted.get(id(t))
        if i is None or t._value is not rec.placeholder:   # computed, or written in place
            return None
        seen = fact(np.asarray(rec.original))
        self.__dict__.setdefault("arg_facts", []).append(
            ArgumentFact(i, self._name_of(t), what, fact, seen))
        return seen
