"""F.linear_cross_entropy and nn.LinearCrossEntropyLoss against PyTorch 2.13 (values and
gradients, eager and compiled, K-dimensional weights, probability targets, PyTorch's
errors), and the unbatched forms of cross_entropy / nll_loss that take every PyTorch
argument."""

import numpy as np
import pytest
from parity import assert_close, check_module, to_gn, to_torch, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def probs(*shape):
    p = rng.uniform(0.1, 1.0, shape).astype(np.float32)
    return p / p.sum(1, keepdims=True)


W = np.array([0.5, 1.0, 2.0, 1.5, 0.7], np.float32)

# name: (call(L, x, w, t, *rest), numpy inputs)
CALLS = {
    "plain": (lambda L, x, w, t: L.nn.functional.linear_cross_entropy(x, w, t),
              [arr(6, 4), arr(5, 4), rng.integers(0, 5, 6)]),
    "bias_weight_smoothing": (
        lambda L, x, w, t, b, cw: L.nn.functional.linear_cross_entropy(
            x, w, t, linear_bias=b, weight=cw, label_smoothing=0.1, reduction="sum"),
        [arr(6, 4), arr(5, 4), rng.integers(0, 5, 6), arr(5), W]),
    "ignore_index_none": (
        lambda L, x, w, t: L.nn.functional.linear_cross_entropy(x, w, t, ignore_index=2,
                                                                reduction="none"),
        [arr(6, 4), arr(5, 4), rng.integers(0, 5, 6)]),
    "probabilities": (lambda L, x, w, t: L.nn.functional.linear_cross_entropy(x, w, t),
                      [arr(6, 4), arr(5, 4), probs(6, 5)]),
    "k_dimensional": (
        lambda L, x, w, t, b: L.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b),
        [arr(6, 4), arr(5, 3, 4), rng.integers(0, 5, (6, 3)), arr(5, 3)]),
    "unbatched": (lambda L, x, w, t: L.nn.functional.linear_cross_entropy(x, w, t),
                  [arr(4), arr(5, 4), np.array(3)]),
}


@pytest.mark.parametrize("case", sorted(CALLS))
def test_linear_cross_entropy_matches_torch(case):
    call, inputs = CALLS[case]
    floats = [i for i, a in enumerate(inputs) if a.dtype.kind == "f" and i < 2]
    t_in = [to_torch(a, requires_grad=i in floats) for i, a in enumerate(inputs)]
    expected = call(torch, *t_in)
    expected.sum().backward()
    for fn in (call, lambda L, *xs: graphnet.compile(lambda *ys: call(L, *ys))(*xs)):
        g_in = [to_gn(a, requires_grad=i in floats) for i, a in enumerate(inputs)]
        got = fn(graphnet, *g_in)
        got.sum().backward()
        assert_close(got, expected, atol=1e-5, rtol=1e-5)
        for i in floats:
            assert_close(g_in[i].grad, t_in[i].grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(), dict(bias=True, label_smoothing=0.2),
                                    dict(out_features=(3,), bias=True, ignore_index=1)])
def test_linear_cross_entropy_module_matches_torch(kwargs):
    ours, theirs = nn.LinearCrossEntropyLoss(4, 5, **kwargs), \
        torch.nn.LinearCrossEntropyLoss(4, 5, **kwargs)
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    target = rng.integers(0, 5, (6,) + kwargs.get("out_features", ()))
    check_module(ours, theirs, [arr(6, 4), target], atol=1e-5, rtol=1e-4)


def test_options_are_validated_and_change_nothing():
    x, w, t = arr(6, 4), arr(5, 4), rng.integers(0, 5, 6)
    options = nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    assert repr(options) == repr(torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2))
    got = graphnet.nn.functional.linear_cross_entropy(to_gn(x), to_gn(w), to_gn(t),
                                                      options=options)
    assert_close(got, torch.nn.functional.linear_cross_entropy(to_torch(x), to_torch(w),
                                                              to_torch(t)))
    for bad in (dict(acc_policy="fast"), dict(chunking_method="rows")):
        with pytest.raises(ValueError):
            torch.nn.LinearCrossEntropyOptions(**bad)
        with pytest.raises(ValueError):
            nn.LinearCrossEntropyOptions(**bad)


BAD = {
    "input_3d": lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(2, 3, 4), L.ones(5, 4), L.zeros(2, dtype=L.long)),
    "weight_1d": lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(2, 4), L.ones(4), L.zeros(2, dtype=L.long)),
    "in_features": lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(2, 4), L.ones(5, 3), L.zeros(2, dtype=L.long)),
    "bias_shape": lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(2, 4), L.ones(5, 4), L.zeros(2, dtype=L.long), linear_bias=L.ones(4)),
    "k_dim_unbatched": lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(4), L.ones(5, 3, 4), L.zeros(3, dtype=L.long)),
    "probabilities_with_ignore_index": lambda L: L.nn.functional.linear_cross_entropy(
        L.ones(2, 4), L.ones(5, 4), L.ones(2, 5) / 5, ignore_index=0),
    "module_weight_shape": lambda L: L.nn.LinearCrossEntropyLoss(4, 5, weight=L.ones(4)),
    "module_smoothing": lambda L: L.nn.LinearCrossEntropyLoss(4, 5, label_smoothing=1.5),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_raise_torchs_error(case):
    with pytest.raises(Exception) as expected:
        BAD[case](torch)
    with pytest.raises(type(expected.value)) as got:
        BAD[case](graphnet)
    assert str(got.value) == str(expected.value)


UNBATCHED = {
    "cross_entropy_probabilities": lambda L, x, p: L.nn.functional.cross_entropy(
        x, p, label_smoothing=0.1),
    "cross_entropy_index": lambda L, x, p: L.nn.functional.cross_entropy(
        x, L.tensor(2), reduction="none"),
    "nll_loss_index": lambda L, x, p: L.nn.functional.nll_loss(x, L.tensor(2)),
    "nll_loss_none_weighted": lambda L, x, p: L.nn.functional.nll_loss(
        x, L.tensor(4), p * 2, reduction="none"),
}


@pytest.mark.parametrize("case", sorted(UNBATCHED))
def test_unbatched_class_losses_match_torch(case):
    x, p = arr(5), probs(1, 5)[0]
    for fn in (UNBATCHED[case], lambda L, *xs: graphnet.compile(
            lambda *ys: UNBATCHED[case](L, *ys))(*xs)):
        t_x, g_x = to_torch(x, requires_grad=True), to_gn(x, requires_grad=True)
        expected, got = UNBATCHED[case](torch, t_x, to_torch(p)), fn(graphnet, g_x, to_gn(p))
        expected.sum().backward()
        got.sum().backward()
        assert_close(got, expected)
        assert_close(g_x.grad, t_x.grad)
