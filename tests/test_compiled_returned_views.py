"""A compiled function that returns a view of a parameter or buffer (`return w[0]`,
`w.t()`, `w.view(-1)`) hands back a view, as eager code and torch do: it follows the
tensor's later in-place changes and an in-place write to it reaches the tensor. Before, the
compiled result was a copy that kept the old values."""

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
