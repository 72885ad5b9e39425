"""The runtime side of hoisting (graphnet/compiler/hoist.py cuts the graph): the prologue's
results are kept while the state arrays they were computed from are the very same objects."""

from __future__ import annotations

import weakref


class HoistCache:
    """The last prologue results, valid while the state arrays are the very same objects.
    Weak references: holding the arrays would keep a training step from donating them."""

    def __init__(self, prologue):
        self.prologue = prologue
        self._refs: list | None = None     # None until the prologue first runs
        self._values: tuple = ()
        self.runs = 0

    def values_for(self, arrays: list) -> tuple:
        refs = self._refs
        if refs is None or any(r() is not a for r, a in zip(refs, arrays, strict=True)):
            self._values = self.prologue(*arrays)
            self._refs = [weakref.ref(a) for a in arrays]
            self.runs += 1
        return self._values
