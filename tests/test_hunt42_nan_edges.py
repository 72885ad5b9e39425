"""NaN and inf at the edges of losses and activations, as PyTorch: a NaN in a margin loss's
element stays NaN (it had been clamped to 0, so `if isnan(loss)` never fired), an infinite
residual in smooth_l1/huber has the linear branch's gradient (the untaken square made it NaN),
and relu6 / hardsigmoid pass or stop a NaN's gradient as PyTorch's backward does."""
import math

import pytest
import torch

import graphnet as G

NAN, INF = float("nan"), float("inf")


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (math.isnan(g) and math.isnan(w)) or g == pytest.approx(w, rel=1e-6, abs=1e-7)


CASES = {
    "margin_ranking": (lambda F, a: F.margin_ranking_loss(a[:2], a[2:4], a[4:6] * 0 + 1),
                       [1.0, NAN, 0.0, 1.0, 3.0, 2.0]),
    "hinge": (lambda F, a: F.hinge_embedding_loss(a, a.new_full(a.shape, -1.0)),
              [1.0, NAN, 0.25, -2.0]),
    "triplet": (lambda F, a: F.triplet_margin_loss(a[0:2].reshape(1, 2), a[2:4].reshape(1, 2),
                                                   a[4:6].reshape(1, 2)),
                [1.0, NAN, 0.0, 1.0, 1.0, 1.0]),
    "triplet_finite": (lambda F, a: F.triplet_margin_loss(a[0:2].reshape(1, 2),
                                                          a[2:4].reshape(1, 2),
                                                          a[4:6].reshape(1, 2)),
                       [1.0, 0.5, 0.0, 1.0, 1.0, 1.0]),
    "smooth_l1": (lambda F, a: F.smooth_l1_loss(a, a.new_zeros(a.shape)),
                  [0.5, INF, -INF, -0.25, 3.0]),
    "smooth_l1_beta": (lambda F, a: F.smooth_l1_loss(a, a.new_zeros(a.shape), beta=0.5),
                       [0.2, INF, -4.0]),
    "huber": (lambda F, a: F.huber_loss(a, a.new_zeros(a.shape), delta=2.0),
              [0.5, INF, -INF, -3.0]),
    # inf * 0 makes a NaN target: the NaN residual keeps PyTorch's NaN gradient
    "smooth_l1_nan_residual": (lambda F, a: F.smooth_l1_loss(a, a * 0), [0.5, INF, -0.25]),
    "huber_nan_residual": (lambda F, a: F.huber_loss(a, a * 0), [0.5, -INF, -0.25]),
    "relu6": (lambda F, a: F.relu6(a).sum(), [0.5, NAN, 7.0, 0.0, 6.0, -1.0, INF]),
    "hardsigmoid": (lambda F, a: F.hardsigmoid(a).sum(), [0.5, NAN, 3.0, -3.0, 4.0, -INF]),
    "hardswish": (lambda F, a: F.hardswish(a).sum(), [0.5, NAN, 3.0, -3.0, 4.0]),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("compiled", [False, True])
def test_value_and_gradient_match_torch(name, compiled):
    fn, data = CASES[name]
    a = torch.tensor(data, requires_grad=True)
    want = fn(torch.nn.functional, a)
    want.backward()
    b = G.tensor(data, requires_grad=True)
    run = G.compile(lambda t: fn(G.nn.functional, t)) if compiled else \
        (lambda t: fn(G.nn.functional, t))
    got = run(b)
    got.backward()
    _same([got.item()], [want.item()])
    _same(b.grad.tolist(), a.grad.tolist())


def test_a_nan_batch_is_seen_by_the_isnan_check():
    scores = G.tensor([[0.2, NAN], [0.1, 0.3]])
    loss = G.nn.functional.margin_ranking_loss(scores[0], scores[1], G.ones(2))
    assert bool(G.isnan(loss))
