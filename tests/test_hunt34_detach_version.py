"""`detach()` shares its source's version counter, as in PyTorch (thirty-fourth session's
dynamic-programming hunt): `d = w.detach(); y = w @ d.t(); w.add_(1)` under no_grad then
refuses y's backward, and `d._version` counts the source's writes. Before, d's counter
stayed 0 and the backward silently read the values of the forward."""

import pytest
import torch

import graphnet as gn


def _step(L):
    w = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    d = w.detach()
    y = w @ d.t()
    with L.no_grad():
        w.add_(1)
    return w, d, y


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_a_write_into_the_source_refuses_a_backward_through_the_detached_alias(compile_):
    _, d0, y0 = _step(torch)
    with pytest.raises(RuntimeError, match="inplace"):
        y0.sum().backward()

    def f(w):
        d = w.detach()
        y = w @ d.t()
        with gn.no_grad():
            w.add_(1)
        y.sum().backward()

    w = gn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="inplace"):
        compile_(f)(w)


def test_the_detached_alias_counts_the_sources_writes():
    counts = []
    for L in (torch, gn):
        w = L.zeros(3)
        d = w.detach()
        w.add_(1)
        d.mul_(2)
        w[0] = 5
        counts.append((w._version, d._version, d.detach()._version))
    assert counts[1] == counts[0]


def test_a_detached_alias_still_differentiates_without_writes():
    w = gn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (w @ w.detach().t()).sum().backward()
    assert w.grad.tolist() == [[4.0, 6.0], [4.0, 6.0]]
