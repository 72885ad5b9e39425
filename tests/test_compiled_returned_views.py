"""A compiled function that returns a view of a parameter or buffer (`return w[0]`,
`w.t()`, `w.view(-1)`) hands back a view, as eager code and torch do: it follows the
tensor's later in-place changes and an in-place write to it reaches the tensor. Before, the
compiled result was a copy that kept the old values. The same holds for a view, or a view of
a view, of a tensor argument (`return x.view(6, 2)[1:].t()`): it is a view of that call's
argument."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet as G

VIEWS = {
    "row": lambda w: w[0],
    "column": lambda w: w[:, 1],
    "transpose": lambda w: w.t(),
    "flat": lambda w: w.view(-1),
    "reshape": lambda w: w.reshape(3, 2),
    "unsqueeze": lambda w: w.unsqueeze(0),
    "row of a transpose": lambda w: w.t()[1],
}


def _run(lib, view, compiled):
    lib.manual_seed(0)
    w = lib.nn.Parameter(lib.arange(6.0).reshape(2, 3))
    fn = (lambda: view(w))
    f = G.compile(fn) if compiled else fn
    seen = []
    a = f()
    with lib.no_grad():
        w.mul_(2)
    seen.append(a.detach().numpy().copy())      # follows the in-place change
    b = f()
    with lib.no_grad():
        b.add_(100)                             # writes through to w
    seen.append(w.detach().numpy().copy())
    seen.append(a.detach().numpy().copy())      # a views w too
    b.sum().backward()                          # the gradient reaches w
    seen.append(w.grad.numpy().copy())
    return seen


@pytest.mark.parametrize("name", list(VIEWS))
def test_returned_view_of_a_parameter(name):
    expected = _run(torch, VIEWS[name], False)
    for compiled in (False, True):
        got = _run(G, VIEWS[name], compiled)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)


def test_returned_view_of_a_buffer_follows_training_updates():
    bn = G.nn.BatchNorm1d(3)
    f = G.compile(lambda: bn.running_mean[:2])
    first = f()
    bn(G.arange(12.0).reshape(4, 3))                # updates running_mean in place
    np.testing.assert_allclose(first.numpy(), bn.running_mean[:2].numpy())


def test_many_calls_keep_few_view_records():
    w = G.nn.Parameter(G.zeros(4))
    f = G.compile(lambda: w[1:3])
    for _ in range(50):
        f()
    assert len(w.__dict__.get("_views", ())) <= 9


ARG_VIEWS = {
    "view": lambda x: x.view(2, 6),
    "reshape": lambda x: x.reshape(4, 3),
    "slice": lambda x: x[1:],
    "select": lambda x: x[2],
    "t": lambda x: x.t(),
    "transpose": lambda x: x.transpose(0, 1),
    "unsqueeze": lambda x: x.unsqueeze(0),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "view of a view of a view": lambda x: x.view(6, 2)[1:].t(),
    # views whose write-through names the source inside a nested function: they wrote the
    # first call's values into the rest of a later call's argument
    "diagonal": lambda x: x.diagonal(),
    "diagonal above": lambda x: x.diagonal(1),
    "view of a diagonal": lambda x: x.diagonal().view(3),
    "as_strided": lambda x: x.as_strided((2, 2), (4, 1), 1),
    # views and `.data` / `detach()` aliases mixed: they came back tied to nothing
    "detached row": lambda x: x[1].detach(),
    "detached transpose": lambda x: x.t().detach(),
    "row of a detached": lambda x: x.detach()[1],
    "row's data": lambda x: x[1].data,
    "transpose of data": lambda x: x.data.t(),
    "detached flat view": lambda x: x.view(12).detach(),
}


def _trip(T, fn, compiled):
    """Three calls, each on a new argument: write through the result, then change the
    argument in place, and read both."""
    run = G.compile(fn) if compiled else fn
    seen = []
    for k in range(3):
        x = T.arange(12.0).reshape(4, 3) * (k + 1)
        out = run(x)
        out.mul_(-1.0)                       # through the result into the argument
        x.add_(100.0)                        # through the argument into the result
        seen.append((x.detach().numpy().copy(), out.detach().numpy().copy()))
    return seen


@pytest.mark.parametrize("name", list(ARG_VIEWS))
def test_a_returned_view_of_an_argument_shares_its_storage(name):
    want = _trip(torch, ARG_VIEWS[name], False)
    for compiled in (False, True):
        got = _trip(G, ARG_VIEWS[name], compiled)
        for (gx, gout), (wx, wout) in zip(got, want, strict=True):
            np.testing.assert_array_equal(gx, wx)
            np.testing.assert_array_equal(gout, wout)


def test_writing_into_a_returned_view_of_a_leaf_that_requires_grad_raises_as_eagerly():
    """PyTorch refuses an in-place change of a view of a leaf that requires grad; the
    compiled call's result is that view too, so it refuses alike."""
    for T, compiled in ((torch, False), (G, False), (G, True)):
        def f(x):
            return x.view(6, 2)[1:]
        run = G.compile(f) if compiled else f
        out = run(T.arange(12.0).requires_grad_())
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            out.mul_(3.0)


def test_a_returned_detached_view_of_a_parameter_writes_into_it():
    """`return lin.weight.detach()[0]`, then `.zero_()` on the result: a row re-initialised
    through a detached view, as PyTorch's shared storage does it."""
    rows = []
    for T, compiled in ((torch, False), (G, False), (G, True)):
        w = T.nn.Parameter(T.arange(6.0).reshape(2, 3))
        fn = (lambda: w.detach()[0])
        run = G.compile(fn) if compiled else fn
        run().zero_()
        run()[1:].fill_(5.0)
        rows.append(w.detach().numpy().copy())
    for got in rows[1:]:
        np.testing.assert_array_equal(got, rows[0])
