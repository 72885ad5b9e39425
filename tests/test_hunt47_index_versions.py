"""An index, label or mask tensor that an op's backward saved, written in place before
backward(): PyTorch raises "modified by an inplace operation"; so does graphnet, eagerly and
compiled (only float inputs were checked, and a pointer network's mask update ran on)."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _gather(T, x):
    idx = T.tensor([[0], [2]])
    return x.gather(1, idx), lambda: idx.__setitem__((0, 0), 1)


def _masked_fill(T, x):
    m = T.zeros(2, 3, dtype=T.bool)
    return x.masked_fill(m, float("-inf")).softmax(-1), lambda: m.__setitem__((0, 1), True)


def _where(T, x):
    m = T.zeros(2, 3, dtype=T.bool)
    return T.where(m, x, x * 3), lambda: m.__setitem__((0, 1), True)


def _index_select(T, x):
    idx = T.tensor([1, 0])
    return x.index_select(0, idx), lambda: idx.__setitem__(0, 0)


def _advanced_index(T, x):
    idx = T.tensor([1, 0])
    return x[idx], lambda: idx.add_(0)


def _cross_entropy(T, x):
    target = T.tensor([1, 0])
    return T.nn.functional.cross_entropy(x, target), lambda: target.__setitem__(0, 2)


def _embedding(T, x):
    ids = T.tensor([1, 0, 1])
    return T.nn.functional.embedding(ids, x), lambda: ids.__setitem__(0, 0)


def _scatter_add(T, x):
    idx = T.tensor([[1, 0, 2], [0, 1, 1]])
    return T.zeros(3, 3).scatter_add(0, idx, x), lambda: idx.__setitem__((0, 0), 2)


CASES = [_gather, _masked_fill, _where, _index_select, _advanced_index, _cross_entropy,
         _embedding, _scatter_add]


def _run(T, case, write: bool):
    x = T.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    y, change = case(T, x)
    if write:
        change()
    y.pow(2).sum().backward()
    return x.grad


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_saved_index_written_in_place_raises_as_in_torch(case):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _run(torch, case, True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _run(gn, case, True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        gn.compile(lambda: _run(gn, case, True))()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_untouched_index_gives_torch_gradients(case):
    want = _run(torch, case, False).numpy()
    np.testing.assert_allclose(_run(gn, case, False).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(gn.compile(lambda: _run(gn, case, False))().numpy(), want,
                               rtol=1e-6)


def test_take_along_dim_index_written_after_is_allowed_as_in_torch():
    for T in (torch, gn):
        x = T.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
        idx = T.tensor([[2, 0]])
        y = T.take_along_dim(x, idx, 1)
        idx[0, 0] = 1
        y.sum().backward()
        assert x.grad.tolist() == [[1.0, 0.0, 1.0]]
