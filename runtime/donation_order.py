"""Which output XLA writes into each donated buffer: the order of a program's outputs.

`jax.jit` pairs donated inputs with outputs by itself: it walks the outputs in order and gives
each one the first still unpaired donated input of the same shape and dtype. A training step
returns its loss, then the new parameters, the new optimizer state and the new `.grad` arrays,
in the order the trace wrote them, and donates only some of its inputs (runtime/artifact.py).
Walked in that order, the MLP's step (784-256-256-10, SGD with momentum) paired its new
second-layer weight with the momentum buffer of the same shape, because that weight itself
is not donated, and then had no buffer left for the new momentum. XLA honoured those pairs
with extra copies and scheduled the step so that none of its eight matmuls went to the YNN
library fusion (XLA-CPU's own matmul code ran instead): the compiled step was 10-15% slower
than the same program with each buffer paired with its own new value.

So the donating programs return their outputs reordered: first, for each donated input in
input order, the output that is meant to overwrite it (`into`: the input's new value, or the
new `.grad` for an old gradient's buffer), then every other output in its own order. Then
JAX's walk pairs each donated input with its own output. `PairedJit` calls such a program and
hands the outputs back in the program's own order, so nothing else sees the difference.
"""

from __future__ import annotations


def front(donated, into: dict) -> tuple:
    """The output positions to move to the front, in order: for each donated input (in input
    order), the output `into` names for it. Inputs `into` does not name are left out."""
    return tuple(into[i] for i in sorted(donated) if i in into)


def to_front(fn, first: tuple):
    """`fn` with the outputs at positions `first` moved to the front, in that order."""
    if not first:
        return fn
    chosen = frozenset(first)

    def reordered(*arrays):
        outs = fn(*arrays)
        return tuple(outs[o] for o in first) + tuple(
            out for o, out in enumerate(outs) if o not in chosen)

    return reordered


def moved(position: int, first: tuple) -> int:
    """Where output `position` of the program's own order lands after `to_front(fn, first)`."""
    if position in first:
        return first.index(position)
    return len(first) + sum(1 for p in range(position) if p not in first)


def order(first: tuple, n_outputs: int) -> list:
    """The program's own output positions in the order `to_front(fn, first)` returns them."""
    chosen = frozenset(first)
    return list(first) + [o for o in range(n_outputs) if o not in chosen]


def inverse(first: tuple, n_outputs: int) -> tuple:
    """For each output position of the program's own order, where `to_front` puts it."""
    places = [0] * n_outputs
    for j, position in enumerate(order(first, n_outputs)):
        places[position] = j
    return tuple(places)


class PairedJit:
    """A jitted `to_front(fn, first)` called as if it were `fn`'s: outputs come back in `fn`'s
    order. Attribute reads (`lower`, `_cache_size`, ...) go to the jitted program, whose own
    outputs stay in the reordered form."""

    def __init__(self, jitted, first: tuple):
        self.jitted, self.first = jitted, tuple(first)
        self._places: tuple = ()   # inverse(first, number of outputs), from the first call

    def __call__(self, *arrays):
        outs = self.jitted(*arrays)
        if len(self._places) != len(outs):
            self._places = inverse(self.first, len(outs))
        return tuple(outs[j] for j in self._places)

    def __getattr__(self, name):
        return getattr(self.jitted, name)


def paired_jit(jit, fn, donate_argnums, into: dict, **kwargs):
    """`jit(fn, donate_argnums=..., **kwargs)` (graphnet._xla.jit or jax.jit) with each donated
    input paired with the output `into` names for it."""
    first = front(donate_argnums, into)
    jitted = jit(to_front(fn, first), donate_argnums=tuple(donate_argnums), **kwargs)
    return PairedJit(jitted, first) if first else jitted
