"""add/sub with `alpha` compute `alpha * other` in the result's dtype, as PyTorch reads alpha:
two bool tensors stay bool (alpha taken as True or False), and a narrower `other` joins the
result's dtype before the multiply. Eager and compiled, against torch."""

import numpy as np
import pytest
import torch

import graphnet

CASES = [  # (a, a dtype, b, b dtype, op, alpha)
    ([True, False, True], "bool", [True, True, False], "bool", "add", 2),
    ([True, False, True], "bool", [True, True, False], "bool", "add", 0),
    ([True, False, True], "bool", [True, True, False], "bool", "add", -1),
    ([1, 2, -3], "int32", [True, False, True], "bool", "add", 2),
    ([1, 2, -3], "int8", [4, 5, 6], "int16", "sub", 3),
    ([1, 2, -3], "int16", [4, 5, 6], "int8", "add", 7),
    ([1.5, -2.25, 3.0], "float64", [0.1, 0.3, 0.7], "float32", "add", 0.7),
    ([1.5, -2.25, 3.0], "float64", [0.1, 0.3, 0.7], "float32", "sub", 1.3),
]


def _pair(lib, a, adt, b, bdt):
    return lib.tensor(a, dtype=getattr(lib, adt)), lib.tensor(b, dtype=getattr(lib, bdt))


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("a, adt, b, bdt, op, alpha", CASES)
def test_alpha_in_the_result_dtype(a, adt, b, bdt, op, alpha, compiled):
    ta, tb = _pair(torch, a, adt, b, bdt)
    want = getattr(torch, op)(ta, tb, alpha=alpha)
    ga, gb = _pair(graphnet, a, adt, b, bdt)
    fn = (lambda x, y: getattr(graphnet, op)(x, y, alpha=alpha))
    got = (graphnet.compile(fn) if compiled else fn)(ga, gb)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("compiled", [False, True])
def test_in_place_bool_add_with_alpha(compiled):
    def step(x, y):
        x.add_(y, alpha=2)
        return x

    ta, tb = _pair(torch, [True, False, False], "bool", [False, False, True], "bool")
    ga, gb = _pair(graphnet, [True, False, False], "bool", [False, False, True], "bool")
    got = (graphnet.compile(step) if compiled else step)(ga, gb)
    assert got.dtype == graphnet.bool and got.tolist() == step(ta, tb).tolist()


def test_gradients_through_a_wider_result():
    ta = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([0.1, 0.3], requires_grad=True)
    torch.add(ta, tb, alpha=0.7).pow(2).sum().backward()
    ga = graphnet.tensor([1.5, -2.0], dtype=graphnet.float64, requires_grad=True)
    gb = graphnet.tensor([0.1, 0.3], requires_grad=True)
    graphnet.add(ga, gb, alpha=0.7).pow(2).sum().backward()
    assert gb.grad.dtype == graphnet.float32
    np.testing.assert_array_equal(ga.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(gb.grad.numpy(), tb.grad.numpy())
