"""`a.data = other` gives `a` new storage: views and aliases taken before keep the old one,
shared among themselves, as in PyTorch. Before, a write through an old view reached `a`."""

import pytest

import graphnet

torch = pytest.importorskip("torch")


def _run(lib):
    a = lib.arange(4.0)
    v, w, d, m = a[1:3], a[2:4], a.detach(), a.view(2, 2)
    a.data = lib.zeros(4)
    v.mul_(10)
    d.add_(100)
    first = [a.tolist(), v.tolist(), w.tolist(), d.tolist(), m.tolist()]
    a.add_(1)
    return first, [a.tolist(), v.tolist(), d.tolist()]


def test_old_views_and_aliases_share_the_old_storage():
    assert _run(graphnet) == _run(torch)


def test_parameter_data_swap_leaves_an_old_view_alone():
    out = []
    for lib in (torch, graphnet):
        p = lib.nn.Parameter(lib.ones(3))
        view = p.detach()[0:2]
        p.data = lib.full((3,), 2.0)
        view.add_(5)
        out.append((p.tolist(), view.tolist()))
    assert out[0] == out[1] == ([2.0, 2.0, 2.0], [6.0, 6.0])
