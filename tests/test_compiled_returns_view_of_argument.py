"""A compiled function that returns a view of its argument (`return x.view(2, 2)`,
`return x[1:]`, `return x.t()`) gives a view of that call's argument, as eagerly and as
PyTorch: an in-place change of the result writes through to the argument, and a later
in-place change of the argument shows in the result. Before, the result was a copy, and
the two drifted apart silently (views of captured parameters already followed them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet

VIEWS = {
    "view": lambda x: x.view(2, 6),
    "reshape": lambda x: x.reshape(4, 3),
    "slice": lambda x: x[1:],
    "select": lambda x: x[2],
    "t": lambda x: x.t(),
    "transpose": lambda x: x.transpose(0, 1),
    "unsqueeze": lambda x: x.unsqueeze(0),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "view of a view of a view": lambda x: x.view(6, 2)[1:].t(),
}


def _trip(T, fn, compiled):
    """Three calls, each on a new argument: write through the result, then change the
    argument in place, and read both."""
    run = graphnet.compile(fn) if compiled else fn
    seen = []
    for k in range(3):
        x = T.arange(12.0).reshape(4, 3) * (k + 1)
        out = run(x)
        out.mul_(-1.0)                       # through the result into the argument
        x.add_(100.0)                        # through the argument into the result
        seen.append((x.detach().numpy().copy(), out.detach().numpy().copy()))
    return seen


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_returned_view_of_an_argument_shares_its_storage(name):
    want = _trip(torch, VIEWS[name], False)
    for compiled in (False, True):
        got = _trip(graphnet, VIEWS[name], compiled)
        for (gx, gout), (wx, wout) in zip(got, want, strict=True):
            np.testing.assert_array_equal(gx, wx)
            np.testing.assert_array_equal(gout, wout)


def test_writing_into_a_returned_view_of_a_leaf_that_requires_grad_raises_as_eagerly():
    """PyTorch refuses an in-place change of a view of a leaf that requires grad; the
    compiled call's result is that view too, so it refuses alike."""
    for T, compiled in ((torch, False), (graphnet, False), (graphnet, True)):
        def f(x):
            return x.view(6, 2)[1:]
        run = graphnet.compile(f) if compiled else f
        out = run(T.arange(12.0).requires_grad_())
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            out.mul_(3.0)
