"""PyTorch's rules for index arguments, where graphnet used to broadcast, cast or reshape and
return plausible numbers: boolean masks of the wrong shape, gather's index (its shape is the
result's), index_select/index_add/index_copy/index_fill's vector index and source, and the
scatter family's index and src dtype. Each case runs in torch and graphnet; errors must
match in type and words, results in values, and compiled calls must agree with eager."""

import numpy as np
import pytest
import torch

import graphnet


def _outcome(fn, lib):
    try:
        out = fn(lib)
    except (IndexError, RuntimeError, TypeError) as err:
        return type(err).__name__ if not isinstance(err, IndexError) else "IndexError", \
            str(err).split("\n")[0]
    return "value", np.asarray(out.detach().numpy() if hasattr(out, "detach") else out).tolist()


def _matches_torch(fn):
    want, got = _outcome(fn, torch), _outcome(fn, graphnet)
    assert got[0] == want[0] or (want[0] == "RuntimeError" and got[0] == "RuntimeError"), \
        (want, got)
    assert got[1] == want[1], (want, got)
    return want


MASKS = {
    "short mask": lambda t: t.arange(12.).reshape(3, 4)[t.tensor([True, False])],
    "mask on dim 1": lambda t: t.arange(12.).reshape(3, 4)[:, t.tensor([True, False, True])],
    "2-d mask": lambda t: t.arange(12.).reshape(3, 4)[t.ones(3, 3, dtype=t.bool)],
    "list mask": lambda t: t.arange(12.).reshape(3, 4)[[True, False]],
    "mask after ellipsis": lambda t: t.arange(12.).reshape(3, 4)[..., t.tensor([True, False, True])],
    "right mask after ellipsis": lambda t: t.arange(12.).reshape(3, 4)[
        ..., t.tensor([True, False, True, True])],
    "mask then None": lambda t: t.arange(12.).reshape(3, 4)[None, t.tensor([True, False, True])],
}


@pytest.mark.parametrize("case", MASKS)
def test_boolean_masks_must_match_the_dimensions_they_index(case):
    _matches_torch(MASKS[case])


def test_a_wrong_mask_in_an_assignment_is_refused():
    def assign(t):
        y = t.zeros(2, 3, 4)
        y[:, t.tensor([True, False])] = -1.0
        return y
    assert _matches_torch(assign)[0] == "IndexError"


def test_a_wrong_mask_is_refused_in_a_compiled_call_too():
    f = graphnet.compile(lambda t: t[graphnet.tensor([True, False])])
    with pytest.raises(IndexError, match="The shape of the mask"):
        f(graphnet.arange(12.).reshape(3, 4))


GATHERS = {
    "index of one row": lambda t: t.gather(t.arange(12.).reshape(3, 4), 1, t.tensor([[0, 1]])),
    "index of two rows": lambda t: t.gather(t.arange(12.).reshape(3, 4), 1, t.tensor([[3], [2]])),
    "dim 0": lambda t: t.gather(t.arange(12.).reshape(3, 4), 0, t.tensor([[2, 0, 1]])),
    "index too large": lambda t: t.gather(t.arange(12.).reshape(3, 4), 1,
                                          t.tensor([[0], [1], [2], [0]])),
    "index of other rank": lambda t: t.gather(t.arange(12.).reshape(3, 4), 1, t.tensor([0, 1])),
    "float index": lambda t: t.gather(t.arange(12.).reshape(3, 4), 1, t.tensor([[0.0]])),
    "int32 index": lambda t: t.gather(t.arange(12.).reshape(3, 4), 1,
                                      t.tensor([[1]], dtype=t.int32)),
    "0-d index": lambda t: t.gather(t.arange(5.), 0, t.tensor(2)),
    "0-d input": lambda t: t.gather(t.tensor(5.), 0, t.tensor([0, 0])),
    "empty index": lambda t: t.gather(t.arange(12.).reshape(3, 4), 1,
                                      t.zeros(0, 2, dtype=t.int64)),
}


@pytest.mark.parametrize("case", GATHERS)
def test_gather_takes_the_index_shape(case):
    _matches_torch(GATHERS[case])


@pytest.mark.parametrize("compiled", [False, True])
def test_gather_with_a_smaller_index_has_torch_gradients(compiled):
    def run(lib, x, index):
        fn = (lambda a, i: lib.gather(a, 1, i))
        fn = graphnet.compile(fn) if compiled and lib is graphnet else fn
        out = fn(x, index)
        (out * lib.tensor([[1.0, 2.0]])).sum().backward()
        return out.detach().numpy(), x.grad.numpy()

    want = run(torch, torch.arange(12.).reshape(3, 4).requires_grad_(), torch.tensor([[0, 1]]))
    got = run(graphnet, graphnet.arange(12.).reshape(3, 4).requires_grad_(),
              graphnet.tensor([[0, 1]]))
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


INDEXED = {
    "index_select 2-d index": lambda t: t.zeros(3, 4).index_select(0, t.tensor([[0, 1]])),
    "index_select 0-d index": lambda t: t.arange(12.).reshape(3, 4).index_select(0, t.tensor(1)),
    "index_select float index": lambda t: t.zeros(3, 4).index_select(0, t.tensor([0.0])),
    "index_select 0-d input": lambda t: t.tensor(3.0).index_select(0, t.tensor([0])),
    "index_add other dtype": lambda t: t.zeros(3, 4).index_add(0, t.tensor([0]),
                                                               t.ones(1, 4, dtype=t.float64)),
    "index_add int into float": lambda t: t.zeros(3, dtype=t.int64).index_add(
        0, t.tensor([0]), t.tensor([1.7])),
    "index_add fewer rows": lambda t: t.zeros(3, 4).index_add(0, t.tensor([0, 1]), t.ones(1, 4)),
    "index_add other slices": lambda t: t.zeros(3, 4).index_add(0, t.tensor([0]), t.ones(1, 3)),
    "index_add 2-d index": lambda t: t.zeros(3, 4).index_add(0, t.tensor([[0]]), t.ones(1, 4)),
    "index_add float index": lambda t: t.zeros(3, 4).index_add(0, t.tensor([0.0]), t.ones(1, 4)),
    "index_add int32 index": lambda t: t.zeros(3, 4).index_add(
        0, t.tensor([2], dtype=t.int32), t.ones(1, 4)),
    "index_add 0-d input": lambda t: t.zeros(()).index_add(0, t.tensor([0]), t.tensor(5.0),
                                                           alpha=2),
    "index_add 0-d source on 1-d": lambda t: t.zeros(3).index_add(0, t.tensor([1]), t.tensor(2.0)),
    "index_copy other dtype": lambda t: t.zeros(3, 4).index_copy(0, t.tensor([0]),
                                                                 t.ones(1, 4, dtype=t.int64)),
    "index_copy fewer rows": lambda t: t.zeros(3, 4).index_copy(0, t.tensor([0, 1]),
                                                                t.ones(1, 4)),
    "index_copy other slices": lambda t: t.zeros(3, 4).index_copy(0, t.tensor([0]),
                                                                  t.ones(1, 3)),
    "index_copy other rank": lambda t: t.zeros(3, 4).index_copy(0, t.tensor(0), t.ones(4)),
    "index_copy int32 index": lambda t: t.zeros(3, 4).index_copy(
        0, t.tensor([0], dtype=t.int32), t.ones(1, 4)),
    "index_copy 2-d index": lambda t: t.zeros(3, 4).index_copy(0, t.tensor([[0]]), t.ones(1, 4)),
    "index_copy 0-d input": lambda t: t.zeros(()).index_copy(0, t.tensor([0]), t.tensor(5.0)),
    "index_fill 2-d index": lambda t: t.zeros(3, 4).index_fill(0, t.tensor([[0]]), 1.0),
    "index_fill int32 index": lambda t: t.zeros(3, 4).index_fill(
        0, t.tensor([0], dtype=t.int32), 1.0),
    "index_fill 0-d index": lambda t: t.zeros(3, 4).index_fill(1, t.tensor(2), 1.0),
    "scatter float into int": lambda t: t.zeros(3, dtype=t.int64).scatter(
        0, t.tensor([0]), t.tensor([1.7])),
    "scatter double into float": lambda t: t.zeros(3, 4).scatter(
        1, t.tensor([[0]]), t.tensor([[7.0]], dtype=t.float64)),
    "scatter_add double into float": lambda t: t.zeros(3).scatter_add(
        0, t.tensor([0]), t.tensor([1.5], dtype=t.float64)),
    "scatter_reduce other dtype": lambda t: t.zeros(3, 4).scatter_reduce(
        1, t.tensor([[0]]), t.ones(3, 4, dtype=t.float64), "sum"),
    "scatter index of other rank": lambda t: t.zeros(3, 4).scatter(1, t.tensor([0, 1]),
                                                                  t.ones(3, 4)),
    "scatter index larger than src": lambda t: t.zeros(3, 4).scatter(
        1, t.tensor([[0, 1, 2]]), t.ones(1, 2)),
    "scatter_add index larger than self": lambda t: t.zeros(3, 4).scatter_add(
        1, t.tensor([[0]] * 4), t.ones(3, 4)),
    "scatter value, index too large": lambda t: t.zeros(3, 4).scatter(1, t.tensor([[0]] * 4), 1.0),
    "scatter float index": lambda t: t.zeros(3, 4).scatter(1, t.tensor([[0.0]]), t.ones(3, 4)),
    "scatter smaller index": lambda t: t.zeros(3, 4).scatter(
        1, t.tensor([[0, 1]]), t.arange(1.0, 13.0).reshape(3, 4)),
    "scatter_add 0-d": lambda t: t.zeros(3).scatter_add(0, t.tensor(1), t.tensor(2.0)),
}


@pytest.mark.parametrize("case", INDEXED)
def test_index_and_scatter_arguments_follow_torch(case):
    _matches_torch(INDEXED[case])


def test_index_checks_hold_in_a_compiled_call():
    f = graphnet.compile(lambda x, i, s: x.index_add(0, i, s))
    with pytest.raises(RuntimeError, match=r"Number of indices \(2\) should be equal"):
        f(graphnet.zeros(3, 4), graphnet.tensor([0, 1]), graphnet.ones(1, 4))
    g = graphnet.compile(lambda x, i: x.index_select(0, i))
    assert g(graphnet.arange(12.).reshape(3, 4), graphnet.tensor(1)).shape == (1, 4)
