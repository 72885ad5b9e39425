"""Defects the thirty-second session's tabular and recommender hunt found in embedding_bag and
embedding, fixed: each test compares graphnet, eagerly and compiled, with torch 2.13."""

import numpy as np
import pytest
import torch

import graphnet as gn

_WEIGHT = [[1., -2.], [0.5, 3.], [2., 1.], [-1., 4.], [3., 0.]]
_MODES = [lambda f: f, gn.compile]


def _bag(lib, compile_, mode, offsets, include_last_offset=False, indices=(1, 2, 3, 0, 4)):
    """embedding_bag's value and the weight's gradient, for a weighted sum of the bags."""
    w = lib.tensor(_WEIGHT).requires_grad_()

    def f(w, x, o):
        out = lib.nn.functional.embedding_bag(x, w, o, mode=mode,
                                              include_last_offset=include_last_offset)
        (out * lib.arange(1., out.numel() + 1).reshape(out.shape)).sum().backward()
        return out

    out = compile_(f)(w, lib.tensor(list(indices)), lib.tensor(offsets))
    return out.detach().numpy(), w.grad.numpy()


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("offsets,last", [([0, 3, 1], False), ([0, 3, 2], False),
                                          ([0, 3, 2, 5], True), ([0, 1, 1, 4], False)])
def test_max_bags_of_decreasing_offsets_are_the_runs_between_them(compile_, offsets, last):
    # PyTorch's max mode accepts offsets that go down: a position's bag counts the offsets
    # at or before it (its cumsum of marks); before, a sorted search gave other bags.
    expected = _bag(torch, lambda f: f, "max", offsets, last)
    got = _bag(gn, compile_, "max", offsets, last)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6)


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("offsets", [[0, 1, 3], [0, 2, 2], [0, 4]])
def test_mean_sends_positions_past_the_last_offset_the_last_bags_gradient(compile_, offsets):
    # PyTorch's mean counts them in the last bag's divisor and gives them its gradient, while
    # their rows stay out of the value; before, they got no gradient.
    expected = _bag(torch, lambda f: f, "mean", offsets, True)
    got = _bag(gn, compile_, "mean", offsets, True)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6)


def test_mean_past_the_last_offset_stays_finite_for_an_infinite_row():
    w = gn.tensor([[1., 2.], [float("inf"), 0.]], requires_grad=True)
    out = gn.nn.functional.embedding_bag(gn.tensor([0, 1]), w, gn.tensor([0, 1]), mode="mean",
                                         include_last_offset=True)
    out.sum().backward()   # torch: [[0.5, 1.0]], the inf row counted but not summed
    assert out.tolist() == [[0.5, 1.0]] and w.grad.tolist() == [[0.5, 0.5], [0.5, 0.5]]


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("psw_dtype", ["float64", "int64"])
def test_per_sample_weights_of_another_dtype_raise(compile_, psw_dtype):
    args = lambda lib: (lib.tensor([0, 1, 2, 0]), lib.ones(3, 2), lib.tensor([0, 2]))
    with pytest.raises(RuntimeError) as expected:
        torch.nn.functional.embedding_bag(*args(torch), mode="sum", per_sample_weights=torch.ones(
            4, dtype=getattr(torch, psw_dtype)))
    f = compile_(lambda x, w, o, p: gn.nn.functional.embedding_bag(x, w, o, mode="sum",
                                                                   per_sample_weights=p))
    with pytest.raises(RuntimeError) as got:
        f(*args(gn), gn.ones(4, dtype=getattr(gn, psw_dtype)))
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("weight", [lambda lib: lib.tensor([10., 11., 12., 13.]),
                                    lambda lib: lib.ones(3, 2, 2), lambda lib: lib.tensor(3.)])
def test_embedding_of_a_weight_not_2d_raises(compile_, weight):
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        torch.nn.functional.embedding(torch.tensor([0, 1]), weight(torch))
    f = compile_(lambda x, w: gn.nn.functional.embedding(x, w))
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        f(gn.tensor([0, 1]), weight(gn))
