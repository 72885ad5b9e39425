"""Parity cases of the extra losses and the distances (graphnet/_ops/loss_extra.py,
distance.py, ctc.py). Each case returns every reduction (or variant) at once, so one case
checks values and gradients of 'none', 'mean' and 'sum', eagerly and compiled."""

from __future__ import annotations

import numpy as np
from op_case_kit import Case, F, _f, fixed, ints, positive, randn, unit  # noqa: F401

_REDUCTIONS = ("none", "mean", "sum")


def signs(*shape):
    """Targets of 1 and -1."""
    return lambda rng: np.where(rng.random(shape) < 0.5, -1.0, 1.0).astype(np.float32)


def zero_ones(*shape):
    return lambda rng: (rng.random(shape) < 0.5).astype(np.float32)


def counts(*shape):   # Poisson targets: 0 .. 5, some above 1 for the Stirling term
    return lambda rng: rng.integers(0, 6, shape).astype(np.float32)


def log_probs(*shape):   # [T, N, C] normalised over C
    def make(rng):
        x = rng.standard_normal(shape)
        return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(np.float32)
    return make


def _all(fn, *args, **kw):
    return tuple(fn(*args, reduction=r, **kw) for r in _REDUCTIONS)


def _ctc(T, lp, targets):
    ctc = _f(T, "ctc_loss")
    padded = _all(ctc, lp, targets, (6, 5, 3), (3, 2, 0))
    flat = T.cat([targets[0, :3], targets[1, :2]])
    concat = ctc(lp[:, :2], flat, T.tensor([6, 4]), T.tensor([3, 2]), reduction="sum")
    blank = ctc(lp, targets, (6, 6, 6), (3, 3, 1), blank=3, reduction="none")
    return padded + (concat, blank)


CASES = {
    # distances
    "cosine_similarity": Case(
        lambda T, x, y: (T.cosine_similarity(x, y), _f(T, "cosine_similarity")(x, y[0], dim=0),
                         _f(T, "cosine_similarity")(x, x * 0, dim=-1)),
        (randn(3, 4), randn(3, 4))),
    "pairwise_distance": Case(
        lambda T, x, y: (_f(T, "pairwise_distance")(x, y), T.pairwise_distance(x, y, p=1),
                         _f(T, "pairwise_distance")(x, y[0], 3.0, keepdim=True),
                         _f(T, "pairwise_distance")(x, y, float("inf"))),
        (randn(3, 4), randn(3, 4))),
    "cdist": Case(
        lambda T, x, y, z: (T.cdist(x, y), T.cdist(x, y, p=1), T.cdist(x, y, p=0.5),
                            T.cdist(x, x), T.cdist(x, y, p=float("inf")), T.cdist(z, y, p=3),
                            T.cdist(z, z[:, :3]), T.cdist(x, y, compute_mode="use_mm_for_euclid_dist")),
        (randn(4, 3), randn(5, 3), randn(2, 30, 3)), atol=1e-4, rtol=1e-4),
    "pdist": Case(
        lambda T, x: (_f(T, "pdist")(x), T.pdist(x, p=1), T.pdist(T.cat([x, x[:1]]))),
        (randn(4, 3),), atol=1e-5),
    "dist": Case(
        lambda T, x, y: (T.dist(x, y), x.dist(y[0], 1), T.dist(x, y, 3.5), T.dist(x, x),
                         T.dist(x, y, float("inf"))),
        (randn(3, 4), randn(3, 4))),
    # margin and embedding losses
    "margin_ranking_loss": Case(
        lambda T, a, b, y: _all(_f(T, "margin_ranking_loss"), a, b, y, margin=0.3),
        (randn(6), randn(6), signs(6))),
    "hinge_embedding_loss": Case(
        lambda T, x, y: _all(_f(T, "hinge_embedding_loss"), x, y, margin=0.8),
        (randn(3, 4), signs(3, 4)), no_grad=(1,)),
    "soft_margin_loss": Case(
        lambda T, x, y: _all(_f(T, "soft_margin_loss"), x, y), (randn(3, 4), signs(3, 4)),
        no_grad=(1,)),
    "multilabel_soft_margin_loss": Case(
        lambda T, x, y, w: _all(_f(T, "multilabel_soft_margin_loss"), x, y) +
        _all(_f(T, "multilabel_soft_margin_loss"), x, y, weight=w),
        (randn(3, 4), zero_ones(3, 4), positive(4)), no_grad=(1, 2)),
    "cosine_embedding_loss": Case(
        lambda T, a, b, y: _all(_f(T, "cosine_embedding_loss"), a, b, y, margin=0.2) +
        (_f(T, "cosine_embedding_loss")(a[0], b[0], y[1]),),
        (randn(5, 4), randn(5, 4), signs(5)), no_grad=(2,)),
    "triplet_margin_loss": Case(
        lambda T, a, p, n: _all(_f(T, "triplet_margin_loss"), a, p, n) +
        _all(_f(T, "triplet_margin_loss"), a, p, n, margin=2.0, p=1, swap=True),
        (randn(4, 5), randn(4, 5), randn(4, 5))),
    # likelihoods
    "poisson_nll_loss": Case(
        lambda T, x, r, y: _all(_f(T, "poisson_nll_loss"), x, y) +
        _all(_f(T, "poisson_nll_loss"), r, y, log_input=False, full=True),
        (randn(3, 4), positive(3, 4), counts(3, 4)), no_grad=(2,)),
    "gaussian_nll_loss": Case(
        lambda T, x, y, v: _all(_f(T, "gaussian_nll_loss"), x, y, v) +
        _all(_f(T, "gaussian_nll_loss"), x, y, v[:, :1], full=True) +
        (_f(T, "gaussian_nll_loss")(x, y, v[:, 0] * 1e-8),),
        (randn(3, 4), randn(3, 4), positive(3, 4))),
    # multi-class and multi-label margins
    "multi_margin_loss": Case(
        lambda T, x, t, w: _all(_f(T, "multi_margin_loss"), x, t) +
        _all(_f(T, "multi_margin_loss"), x, t, p=2, margin=0.5, weight=w) +
        (_f(T, "multi_margin_loss")(x[0], t[0]),),
        (randn(5, 4), ints(0, 4, 5), positive(4)), no_grad=(2,)),
    "multilabel_margin_loss": Case(
        lambda T, x, t: _all(_f(T, "multilabel_margin_loss"), x, t) +
        (_f(T, "multilabel_margin_loss")(x[0], t[0]),),
        (randn(3, 4), fixed([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 2, 1, 0]], np.int64))),
    "ctc_loss": Case(_ctc, (log_probs(6, 3, 4), fixed([[1, 2, 2], [3, 1, 0], [2, 0, 0]],
                                                      np.int64)), atol=1e-4, rtol=1e-4),
}

ELSEWHERE = {
    "adaptive_log_softmax_target": ("nn.Module", "tests/test_losses_extra.py",
                                    "test_adaptive_log_softmax_matches_torch"),
}
