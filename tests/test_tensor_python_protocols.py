"""Python protocols at PyTorch's parity: a tensor used as a list index (`__index__`) must
hold one integer or bool element, as torch's (a float tensor gave an element silently); a
Size stays a Size through the tuple arithmetic torch.Size keeps (`x.shape + (4,)` was a
plain tuple); `copy.copy(t)` shares t's storage (it copied the values)."""

from __future__ import annotations

import copy

import pytest
import torch

import graphnet

ITEMS = [10, 20, 30]


@pytest.mark.parametrize("make", [lambda T: T.tensor(1), lambda T: T.tensor([[2]]),
                                  lambda T: T.tensor(True), lambda T: T.tensor(1, dtype=T.int8),
                                  lambda T: T.tensor([0], dtype=T.uint8)],
                         ids=["int64", "1x1", "bool", "int8", "uint8"])
def test_an_integer_tensor_of_one_element_indexes_a_list(make):
    assert ITEMS[make(graphnet)] == ITEMS[make(torch)]
    assert list(range(make(graphnet) + 2)) == list(range(make(torch) + 2))


@pytest.mark.parametrize("make", [lambda T: T.tensor(1.0), lambda T: T.tensor([1, 2]),
                                  lambda T: T.tensor([]).long()],
                         ids=["float", "two elements", "empty"])
def test_other_tensors_refuse_to_be_an_index_as_in_pytorch(make):
    with pytest.raises(TypeError) as want:
        ITEMS[make(torch)]
    with pytest.raises(TypeError) as got:
        ITEMS[make(graphnet)]
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("expr", ["s + (4,)", "(4,) + s", "s[1:]", "s[::-1]", "2 * s",
                                  "s * 2", "s[0]", "s + s"])
def test_size_arithmetic_keeps_a_size(expr):
    want = eval(expr, {"s": torch.Size([2, 3])})
    got = eval(expr, {"s": graphnet.Size([2, 3])})
    assert type(got).__name__ == type(want).__name__
    assert tuple(got) == tuple(want) if isinstance(want, tuple) else got == want
    if isinstance(want, torch.Size):
        assert repr(got) == repr(want).replace("torch", "graphnet")


def test_a_shape_built_from_a_shape_reshapes():
    x = graphnet.ones(2, 3)
    assert x.reshape(x.shape[:1] + (3, 1)).shape == graphnet.Size([2, 3, 1])


@pytest.mark.parametrize("kind", ["leaf", "no grad", "parameter"])
def test_a_shallow_copy_shares_the_storage(kind):
    seen = []
    for T in (torch, graphnet):
        t = {"leaf": lambda: T.tensor([1.0, 2.0], requires_grad=True),
             "no grad": lambda: T.tensor([1.0, 2.0]),
             "parameter": lambda: T.nn.Parameter(T.tensor([1.0, 2.0]))}[kind]()
        c = copy.copy(t)
        with T.no_grad():
            c.add_(1.0)      # reaches t
            t.mul_(10.0)     # reaches c
        seen.append((type(c).__name__, c.requires_grad, c.is_leaf, c.grad_fn is None,
                     t.tolist(), c.tolist()))
    assert seen[1] == seen[0]
