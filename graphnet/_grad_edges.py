"""What `grad_fn.next_functions` shows: a leaf's one `AccumulateGrad`, and which of PyTorch's
entries stand for an input that takes no gradient (`(None, 0)`)."""

from __future__ import annotations

import weakref

import numpy as np


def keep_slots(node) -> None:
    """Before backward frees `node`'s saved inputs: keep its entries when some input takes no
    gradient (the only case that needs the saved inputs; the usual node, every input
    differentiated, is left alone at the cost of one length compare)."""
    if node.needs is not None and len(node.needs) != len(node.saved):
        input_slots(node)


def input_slots(node) -> tuple:
    """Per entry of `node.next_functions`: the index of the edge it shows, or None for an
    input PyTorch lists as `(None, 0)`, a floating-point tensor that takes no gradient
    (`c * x` with a constant `c`: `(None, AccumulateGrad)`). Integer and bool tensors
    (indices, masks) and Python numbers get no entry. Kept on the node (`_slots`) before
    backward frees its saved inputs (autograd/_engine.py), so the entries stay the same."""
    kept = getattr(node, "_slots", None)
    if kept is not None:
        return kept
    if node.needs is None or node.saved is None or len(node.needs) == len(node.saved):
        return tuple(range(len(node.edges)))
    needed = {p: k for k, p in enumerate(node.needs)}
    node._slots = tuple(needed.get(p) for p, v in enumerate(node.saved)
                        if p in needed or _floating_array(v))
    return node._slots


def _floating_array(v) -> bool:
    dtype = getattr(v, "dtype", None)
    return dtype is not None and getattr(v, "ndim", None) is not None and \
        np.issubdtype(dtype, np.inexact)


class AccumulateGrad:
    """What `next_functions` shows for a leaf: PyTorch's gradient accumulator, `.variable`;
    one per leaf (`accumulator`), so walks that collect nodes in a set meet it once. Its
    hooks (graphnet/autograd/_hooks.py) run around the accumulation into `.grad`."""

    def __init__(self, variable):
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        return self._variable()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions = ()
    metadata = property(lambda self: self.__dict__.setdefault("_metadata", {}))

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_ACCUMULATORS: dict = {}   # id(leaf) -> its AccumulateGrad, while the leaf lives


def accumulator(leaf) -> AccumulateGrad:
    """The leaf's AccumulateGrad, made on first use and kept while the leaf lives (not in
    its __dict__, which copies and pickles would carry)."""
    found = _ACCUMULATORS.get(id(leaf))
    if found is None or found.variable is not leaf:
        found = _ACCUMULATORS[id(leaf)] = AccumulateGrad(leaf)
        weakref.finalize(leaf, _ACCUMULATORS.pop, id(leaf), None)
    return found
