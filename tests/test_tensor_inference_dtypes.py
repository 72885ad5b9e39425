"""`tensor()` of lists holding NumPy numbers, NumPy arrays and tensors infers PyTorch's dtype
(each leaf's dtype, promoted pairwise) and reads a tensor leaf as its one number, eagerly
and compiled, with PyTorch's errors."""

import itertools
import warnings

import numpy as np
import pytest
import torch

import graphnet


def _leaves(T):
    return [1.5, 2, True, np.float64(1.0000000001), np.float32(2.5), np.float16(1.5),
            np.int32(3), np.int8(-2), np.uint8(200), np.int64(7), np.bool_(True),
            T.tensor(0.1, dtype=T.float64), T.tensor([2], dtype=T.int32),
            T.tensor(1.5, dtype=T.bfloat16), T.tensor(True), T.tensor(3, dtype=T.uint8),
            T.tensor([[0.25]], dtype=T.float16)]


def _outcome(T, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = make(T)
        except (TypeError, ValueError) as err:
            return type(err).__name__, str(err)
    return str(r.dtype).split(".")[-1], r.tolist()


def _compiled(make):
    return lambda T: graphnet.compile(lambda: make(graphnet))()


PAIRS = list(itertools.product(range(17), repeat=2))


@pytest.mark.parametrize("dtype", [None, "float64", "int32", "bool", "float16"])
def test_pairs_of_typed_leaves_match_torch(dtype):
    for i, j in PAIRS:
        def make(T, i=i, j=j):
            leaves = _leaves(T)
            return T.tensor([leaves[i], leaves[j]], dtype=getattr(T, dtype) if dtype else None)

        expected = _outcome(torch, make)
        assert _outcome(graphnet, make) == expected, (i, j, dtype)
    # one compiled run per dtype keeps this quick: the rule is a host-side one
    make = lambda T: T.tensor([np.float64(0.1), T.tensor(2, dtype=T.int32)],  # noqa: E731
                              dtype=getattr(T, dtype) if dtype else None)
    assert _outcome(graphnet, _compiled(make)) == _outcome(torch, make)


TYPED_LISTS = [
    lambda T: T.tensor([np.float64(1.0000000001), np.float64(2)]) - 1,
    lambda T: T.tensor([np.int32(1), np.int32(2)]),
    lambda T: T.tensor([T.tensor(0.1, dtype=T.float64)] * 2),
    lambda T: T.tensor([np.array([1, 2], np.int32)]),
    lambda T: T.tensor([np.array([1.5], np.float64), [2.5]]),
    lambda T: T.tensor([T.tensor([1.5]), T.tensor([2.5])]),
    lambda T: T.tensor([T.tensor([[1.5]]), T.tensor(2.5)]),
    lambda T: T.tensor([[T.tensor(1.5)], [T.tensor([2.5])]]),
    lambda T: T.tensor((np.float32(1.5), (2.0)), dtype=T.float64),
    lambda T: T.tensor([np.uint8(1), np.int8(2)]),
    lambda T: T.tensor([T.tensor(1, dtype=T.bfloat16), T.tensor(1, dtype=T.float16)]),
    lambda T: T.tensor([T.tensor([1.0, 2.0]), T.tensor([3.0, 4.0])]),
    lambda T: T.tensor([T.tensor([1.5])], dtype=T.int64),
    lambda T: T.tensor([np.float32(2.5), 1], dtype=T.int32),
    lambda T: T.tensor([[1.5, 2], [3, 4]]),
    lambda T: T.tensor([1, 2, 3]),   # plain lists keep their rules
]


def test_typed_lists_match_torch_eager_and_compiled():
    for index, make in enumerate(TYPED_LISTS):
        expected = _outcome(torch, make)
        assert _outcome(graphnet, make) == expected, index
        assert _outcome(graphnet, _compiled(make)) == expected, index


def test_a_leaf_requiring_grad_warns_as_torch_does():
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True"):
        graphnet.tensor([graphnet.tensor(1.5, requires_grad=True)])
