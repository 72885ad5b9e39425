"""`t == None`, `t == "a"`, `t == [1.0]`: PyTorch gives False (and `!=` True), since its
TypeError becomes NotImplemented and Python compares identities. graphnet raised (a
ShapeError for None), which broke `if mask == None:` and `t in [None, ...]`, eagerly and
compiled."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet

OTHERS = {"None": None, "str": "a", "list": [1.0], "tuple": (1,), "object": object(),
          "dict": {"a": 1}}


@pytest.mark.parametrize("name", list(OTHERS))
def test_comparing_a_tensor_with_a_non_tensor_gives_pythons_answer(name):
    other = OTHERS[name]
    for T in (torch, graphnet):
        t = T.tensor([1.0, 2.0])
        assert (t == other) is False
        assert (t != other) is True
        assert (other == t) is False
        assert (t in [other]) is False
        assert [other, t].index(t) == 1


def test_numbers_and_arrays_still_compare_elementwise():
    for other in (2.0, 2, np.float32(2.0), np.array([1.0, 2.0])):
        want = (torch.tensor([1.0, 2.0]) == other).numpy()
        np.testing.assert_array_equal((graphnet.tensor([1.0, 2.0]) == other).numpy(), want)
        if not isinstance(other, np.ndarray):   # `t != array` is True, by identity
            np.testing.assert_array_equal((graphnet.tensor([1.0, 2.0]) != other).numpy(), ~want)


@pytest.mark.parametrize("compiled", [False, True])
def test_a_mask_compared_with_none_inside_a_model(compiled):
    def f(x, mask=None):
        if mask == None:   # noqa: E711  (the legacy spelling this test is about)
            return x * 2.0
        return x.masked_fill(mask, 0.0)

    run = graphnet.compile(f) if compiled else f
    x = graphnet.tensor([1.0, -1.0])
    np.testing.assert_array_equal(run(x).numpy(), [2.0, -2.0])
    np.testing.assert_array_equal(run(x, graphnet.tensor([True, False])).numpy(), [0.0, -1.0])


def test_ordering_with_a_non_tensor_still_raises_a_type_error():
    for T in (torch, graphnet):
        with pytest.raises(TypeError):
            _ = T.tensor([1.0]) < "a"
