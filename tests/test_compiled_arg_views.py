"""A compiled function that writes in place to an argument which is a view of another
tensor: the write reaches that tensor, on every call, for whichever tensor the view is of.

Before, the trace lifted the first call's base tensor as state, and later calls with a view
of another tensor wrote into the first one (and left theirs unchanged), silently."""

from __future__ import annotations

import numpy as np
import pytest

import graphnet as G


def _views(kind):
    return {
        "slice": lambda t: t[1:3],
        "row": lambda t: t.view(2, 3)[1],
        "chain": lambda t: t[0:5][1:3],
        "transpose": lambda t: t.view(2, 3).t(),
        "reshape": lambda t: t.view(3, 2),
        "detach": lambda t: t.detach(),
    }[kind]


WRITES = {
    "mul_": lambda a: a.mul_(10),
    "add_ then return": lambda a: a.add_(1) * 2,
    "setitem": lambda a: a.__setitem__(0, 7.0),
    "fill_": lambda a: a.fill_(3.0),
}


@pytest.mark.parametrize("kind", ["slice", "row", "chain", "transpose", "reshape", "detach"])
@pytest.mark.parametrize("write", list(WRITES))
def test_in_place_writes_reach_each_calls_own_base(kind, write):
    view, fn = _views(kind), WRITES[write]
    compiled = G.compile(fn)
    bases = {"eager": [G.arange(6.0) + k for k in range(3)],
             "compiled": [G.arange(6.0) + k for k in range(3)]}
    for k in (0, 1, 0, 2, 1):        # back and forth between three tensors
        out_e = fn(view(bases["eager"][k]))
        out_c = compiled(view(bases["compiled"][k]))
        if out_e is not None:
            np.testing.assert_array_equal(out_c.numpy(), out_e.numpy())
        for e, c in zip(bases["eager"], bases["compiled"], strict=True):
            np.testing.assert_array_equal(c.numpy(), e.numpy())


def test_read_only_views_of_new_tensors_do_not_recompile():
    """A batch sliced from a new tensor every step: nothing of its storage is in the
    program, so no check applies and the program is reused."""
    f = G.compile(lambda a, b: (a * b).sum())
    for k in range(4):
        batch = G.arange(12.0).view(3, 4) + k
        got = f(batch[:, :2], batch[:, 2:])
        expected = (batch[:, :2] * batch[:, 2:]).sum()
        assert float(got) == float(expected)
    assert f.explain()["recompile_reasons"] == ["first call"]


def test_in_place_write_to_a_view_of_a_parameter_argument():
    """A module's weight handed in as a row view, changed in place under no_grad."""
    lin = G.nn.Linear(3, 2)
    other = G.nn.Linear(3, 2)

    def scale(row):
        with G.no_grad():
            row.mul_(2)

    compiled = G.compile(scale)
    w0, o0 = lin.weight.detach().numpy().copy(), other.weight.detach().numpy().copy()
    compiled(lin.weight[0])
    compiled(other.weight[1])
    w0[0] *= 2
    o0[1] *= 2
    np.testing.assert_allclose(lin.weight.detach().numpy(), w0)
    np.testing.assert_allclose(other.weight.detach().numpy(), o0)
