"""An op called with 1.0, then with 1 (or True), is not the same call: equal as dictionary
keys, the numbers give different result types. Every cache keyed by an op's attributes (the
eager kernels, the tracer's type inference, the traced VJPs) tells them apart. Before, after
`floats.clamp(max=1.0)`, every `ints.clamp(max=1)` returned float64, silently."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

CALLS = {
    "clamp max": lambda T, x, v: x.clamp(max=v),
    "clamp min max": lambda T, x, v: T.clamp(x, min=v, max=3 * v),
    "clamp_min": lambda T, x, v: x.clamp_min(v),
    "pow": lambda T, x, v: x.pow(v + 1),
    "remainder": lambda T, x, v: x.remainder(v + 1),
    "fmod": lambda T, x, v: T.fmod(x, v + 1),
    "add": lambda T, x, v: x + v,
    "masked_fill": lambda T, x, v: x.masked_fill(x > 2, v),
    "full": lambda T, x, v: T.full((2,), v),
    "where": lambda T, x, v: T.where(x > 2, x, v),
}
# each call runs with every kind of one, in both orders, so whichever came first is cached
ORDERS = {"float first": (1.0, 1, True), "int first": (1, 1.0, True),
          "bool first": (True, 1, 1.0)}


def _results(lib, name, values, compiled=False):
    x = lib.tensor([0, 1, 2, 5])
    out = []
    for v in values:
        for arg in (x, x.float()):
            call = (lambda a, v=v: CALLS[name](lib, a, v))
            y = (graphnet.compile(call) if compiled else call)(arg)
            out.append((str(y.dtype).split(".")[-1], np.asarray(y.numpy()).tolist()))
    return out


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("name", list(CALLS))
def test_one_one_point_oh_and_true_give_pytorchs_result_types(name, order, compiled):
    try:
        want = _results(torch, name, ORDERS[order])
    except RuntimeError:
        pytest.skip("PyTorch refuses one of these calls")
    assert _results(graphnet, name, ORDERS[order], compiled) == want


@pytest.mark.parametrize("first", [0.0, -0.0])
def test_zero_and_negative_zero_are_different_calls(first):
    """0.0 == -0.0 too: whichever sign came first was reused for the other."""
    got, want = [], []
    for lib, out in ((torch, want), (graphnet, got)):
        x = lib.tensor([1.5, -2.0, -0.0])
        for bound in (first, -first):
            for y in (x.clamp(min=bound), x.clamp(max=-bound),
                      lib.nn.functional.pad(x, (1, 0), value=bound)):
                out.append(np.signbit(np.asarray(y.numpy())).tolist())
    assert got == want
