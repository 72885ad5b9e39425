"""Distances against PyTorch beyond the op parity cases (tests/op_cases_loss.py): modules,
gradients where a distance is zero, cdist's matmul form and batch broadcasting, dtype rules
and PyTorch's errors."""

import numpy as np
import pytest
from parity import assert_close, check_module, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("kwargs", [dict(), dict(dim=0, eps=1e-3), dict(dim=-1)])
def test_cosine_similarity_module(kwargs):
    ours, theirs = nn.CosineSimilarity(**kwargs), torch.nn.CosineSimilarity(**kwargs)
    assert repr(ours) == repr(theirs)
    check_module(ours, theirs, [arr(3, 4), arr(3, 4)])


@pytest.mark.parametrize("kwargs", [dict(), dict(p=1.0, keepdim=True), dict(p=3.0, eps=0.0)])
def test_pairwise_distance_module(kwargs):
    ours, theirs = nn.PairwiseDistance(**kwargs), torch.nn.PairwiseDistance(**kwargs)
    assert repr(ours) == repr(theirs) and ours.norm == theirs.norm
    check_module(ours, theirs, [arr(3, 4), arr(1, 4)])


def _grads(L, fn, *arrays):
    make = to_gn if L is graphnet else to_torch
    xs = [make(a, requires_grad=True) for a in arrays]
    out = fn(L, *xs)
    out.sum().backward()
    return out, [x.grad for x in xs]


ZERO_DISTANCE = {   # each has rows (or elements) at distance exactly 0
    "cdist_p2": lambda L, x, y: L.cdist(x, L.cat([y, x[:2]])),
    "cdist_p2_mm": lambda L, x, y: L.cdist(x, x, compute_mode="use_mm_for_euclid_dist"),
    "cdist_p1": lambda L, x, y: L.cdist(x, x, p=1),
    "cdist_p_half": lambda L, x, y: L.cdist(x, x, p=0.5),
    "cdist_p3": lambda L, x, y: L.cdist(x, x, p=3),
    "cdist_p0": lambda L, x, y: L.cdist(x, y, p=0),
    "cdist_inf": lambda L, x, y: L.cdist(x, x, p=float("inf")),
    "pdist_repeat": lambda L, x, y: L.pdist(L.cat([x, x[:1]])),
    "dist_same": lambda L, x, y: L.dist(x, x),
    "pairwise_eps0": lambda L, x, y: L.pairwise_distance(x, x, eps=0.0),
    "cosine_zero_vector": lambda L, x, y: L.cosine_similarity(x, x * 0),
}


@pytest.mark.parametrize("case", sorted(ZERO_DISTANCE))
def test_gradient_at_zero_distance_is_torchs(case):
    """PyTorch's norm gives 0 where a p-norm is 0 (autodiff of the formula: NaN)."""
    x, y = arr(4, 3), arr(5, 3)
    g_out, g_grads = _grads(graphnet, ZERO_DISTANCE[case], x, y)
    t_out, t_grads = _grads(torch, ZERO_DISTANCE[case], x, y)
    if "mm" in case:   # the matmul form's zero is rounding noise, and its root 1e-4 or so:
        g_out, t_out = g_out * g_out, t_out * t_out   # compared squared (the data's draw moves it)
    assert_close(g_out, t_out, atol=1e-5)
    for g, t in zip(g_grads, t_grads):
        expected = np.zeros(x.shape, np.float32) if t is None else np_of(t)
        got = np.zeros(x.shape, np.float32) if g is None else np_of(g)
        assert np.isfinite(got).all()
        if "mm" not in case:   # PyTorch's matmul form: sqrt'(0) gives it NaN there
            assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_cdist_uses_the_matmul_form_when_torch_does():
    """Above 25 rows PyTorch computes p = 2 as |a|^2 - 2 a.b + |b|^2 (its rounding and
    memory); 'donot_use_mm_for_euclid_dist' keeps the exact difference form."""
    x, y = arr(2, 40, 8), arr(1, 30, 8)
    for mode in ("use_mm_for_euclid_dist_if_necessary", "donot_use_mm_for_euclid_dist"):
        call = lambda L, a, b: L.cdist(a, b, compute_mode=mode)   # noqa: E731
        g_out, g_grads = _grads(graphnet, call, x, y)
        t_out, t_grads = _grads(torch, call, x, y)
        assert g_out.shape == t_out.shape == (2, 40, 30)
        assert_close(g_out, t_out, atol=1e-4, rtol=1e-4)
        for g, t in zip(g_grads, t_grads):
            assert_close(g, t, atol=1e-4, rtol=1e-4)
    compiled = graphnet.compile(lambda a, b: graphnet.cdist(a, b))(to_gn(x), to_gn(y))
    assert_close(compiled, torch.cdist(to_torch(x), to_torch(y)), atol=1e-4, rtol=1e-4)


def test_cdist_broadcasts_batch_dims():
    x, y = arr(2, 1, 3, 4), arr(5, 2, 4)
    assert_close(graphnet.cdist(to_gn(x), to_gn(y), p=1), torch.cdist(to_torch(x),
                                                                    to_torch(y), p=1))


def test_integer_inputs_follow_torchs_dtype_rules():
    a, b = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[1, 0, 3], [0, 5, 0]])
    got = graphnet.pairwise_distance(to_gn(a), to_gn(b))
    expected = torch.pairwise_distance(to_torch(a), to_torch(b))
    assert np_of(got).dtype == np.float32
    assert_close(got, expected)
    mixed = graphnet.cosine_similarity(to_gn(a), to_gn(b.astype(np.float32)))
    assert_close(mixed, torch.cosine_similarity(to_torch(a), to_torch(b.astype(np.float32))))
    x64 = arr(3, 4).astype(np.float64)
    assert np_of(graphnet.cdist(to_gn(x64), to_gn(x64))).dtype == np.float64
    assert np_of(to_gn(x64).dist(to_gn(x64[0]))).dtype == np.float64


def test_zero_dim_and_unbatched_shapes():
    s, t = np.float32(1.5), np.float32(-2.0)
    for fn in (lambda L, a, b: L.pairwise_distance(a, b),
               lambda L, a, b: L.cosine_similarity(a, b, dim=0),
               lambda L, a, b: L.dist(a, b, 1)):
        assert_close(fn(graphnet, to_gn(s), to_gn(t)), fn(torch, to_torch(s), to_torch(t)))
    one_row = graphnet.pdist(to_gn(arr(1, 3)))
    assert tuple(one_row.shape) == (0,)


BAD = {
    "cosine_dim": lambda L: L.cosine_similarity(L.ones(3, 4), L.ones(3, 4), dim=2),
    "cosine_broadcast": lambda L: L.cosine_similarity(L.ones(3, 4), L.ones(3, 3)),
    "cosine_ints": lambda L: L.cosine_similarity(L.ones(3, 4, dtype=L.long),
                                                 L.ones(3, 4, dtype=L.long)),
    "pairwise_broadcast": lambda L: L.pairwise_distance(L.ones(3, 4), L.ones(2, 4)),
    "cdist_1d": lambda L: L.cdist(L.ones(3), L.ones(3)),
    "cdist_columns": lambda L: L.cdist(L.ones(3, 4), L.ones(3, 3)),
    "cdist_ints": lambda L: L.cdist(L.ones(3, 4, dtype=L.long), L.ones(3, 4, dtype=L.long)),
    "cdist_negative_p": lambda L: L.cdist(L.ones(3, 4), L.ones(3, 4), p=-1),
    "cdist_mode": lambda L: L.cdist(L.ones(3, 4), L.ones(3, 4), compute_mode="fast"),
    "pdist_3d": lambda L: L.pdist(L.ones(2, 3, 4)),
    "pdist_negative_p": lambda L: L.pdist(L.ones(3, 4), p=-1),
    "dist_ints": lambda L: L.dist(L.ones(3, dtype=L.long), L.ones(3, dtype=L.long)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_raise_torchs_error(case):
    with pytest.raises(Exception) as expected:
        BAD[case](torch)
    with pytest.raises(type(expected.value)) as got:
        BAD[case](graphnet)
    assert str(got.value) == str(expected.value)
