"""Code that catches graphnet's refusal inside a compiled function. A TraceError made while
tracing tells the tracer (graphnet/_errors.py), and the trace fails at its end: before, the
user's `except RuntimeError` took its other branch, which the program then held, and static
mode returned that branch's numbers where eager code took the first."""

import contextlib

import numpy as np
import pytest
from parity import torch

import graphnet


def _branch_on_values(lib, a):
    try:
        if (a > 0).all():
            return a * 2
    except RuntimeError:
        pass
    return a


def _item_with_default(lib, a):
    try:
        s = a.sum().item()
    except RuntimeError:
        s = 0.0
    return a + s


def _suppressed_float(lib, a):
    scale = 1.0
    with contextlib.suppress(Exception):
        scale = float(a.sum())
    return a * scale


CASES = {"branch": _branch_on_values, "item": _item_with_default,
         "suppress": _suppressed_float}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_caught_refusal_still_refuses_the_compile(name):
    fn = CASES[name]
    x = np.array([1.0, 2.0], np.float32)
    want = fn(torch, torch.tensor(x)).numpy()
    np.testing.assert_allclose(fn(graphnet, graphnet.tensor(x)).numpy(), want)   # eager
    compiled = graphnet.compile(lambda a: fn(graphnet, a))
    with pytest.raises(graphnet.TraceError, match="caught this refusal and went on"):
        compiled(graphnet.tensor(x))


def test_graphnets_own_fallbacks_still_compile():
    """repeat_interleave reads a one-element count through a catch of its own: a count the
    traced code computes stays a tensor (`_host_reads.try_host_values`, which hands the
    refusal back: `forgive_refusal`). That compiles, and equals PyTorch."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    want = torch.repeat_interleave(torch.tensor(x), torch.tensor([2]), dim=1)
    compiled = graphnet.compile(
        lambda t, r: graphnet.repeat_interleave(t, r + 1, dim=1, output_size=6))
    np.testing.assert_array_equal(compiled(graphnet.tensor(x), graphnet.tensor([1])).numpy(),
                                  want.numpy())
