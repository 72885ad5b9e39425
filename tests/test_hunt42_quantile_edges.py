"""quantile's midpoint is PyTorch's lerp at weight 0.5 (so inf - inf gives NaN, and two huge
neighbours overflow as PyTorch's do), and an all-NaN row of nanquantile passes its gradient to
its first NaN as PyTorch's, not to nothing."""
import math

import pytest
import torch

import graphnet as G

INF, NAN = float("inf"), float("nan")


def _same(got, want):
    for g, w in zip(got, want):
        assert (math.isnan(g) and math.isnan(w)) or g == w, (got, want)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("data, q", [([1.0, INF], 0.5), ([1.0, INF], 1.0), ([INF], 0.5),
                                     ([-3e38, 3e38], 0.5), ([1.0, 2.0, 4.0, 7.0], 0.5),
                                     ([5.0, -1.0, 2.0], 0.25)])
def test_midpoint_is_pytorchs_lerp(compiled, data, q):
    want = torch.tensor([data, data]).quantile(q, dim=1, interpolation="midpoint").tolist()
    fn = (lambda t: t.quantile(q, dim=1, interpolation="midpoint"))
    fn = G.compile(fn) if compiled else fn
    _same(fn(G.tensor([data, data])).tolist(), want)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("interpolation", ["linear", "midpoint", "lower", "higher", "nearest"])
def test_all_nan_row_gradient(compiled, interpolation):
    data = [[1.0, 2.0, 3.0], [NAN, NAN, NAN]]

    def loss(lib, x):
        out = lib.nanquantile(x, lib.tensor([0.3, 0.5]), dim=1, interpolation=interpolation)
        return (out * 2).sum(), out

    a = torch.tensor(data, requires_grad=True)
    want, want_out = loss(torch, a)
    want.backward()
    b = G.tensor(data, requires_grad=True)
    run = G.compile(lambda x: loss(G, x)) if compiled else (lambda x: loss(G, x))
    got, got_out = run(b)
    got.backward()
    _same(sum(got_out.tolist(), []), sum(want_out.tolist(), []))
    assert b.grad.tolist() == a.grad.tolist()
