"""A compiled module that keeps its input in a plain attribute (`self.prev = x`, a cache of
the last input), and `view`/`reshape` to the same shape (thirty-third session's decoding
hunt). The compiled call replayed the first call's program, which neither read the new
attribute nor set it again ([1, 2, 3, 4] where PyTorch gives [1, 3, 5, 7]); and
`x.view(3)` returned `x` itself, so `requires_grad_()` or `.data =` on the "view" changed x."""

import pytest
import torch

import graphnet as gn


def _keeper(T, initial):
    class Keeper(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.prev = initial(T)

        def forward(self, x):
            out = x if self.prev is None else x + self.prev
            self.prev = x
            return out

    return Keeper()


@pytest.mark.parametrize("initial", [lambda T: T.zeros(1), lambda T: None])
def test_an_argument_kept_in_a_plain_attribute_is_read_back_each_call(initial):
    expected_module, module = _keeper(torch, initial), _keeper(gn, initial)
    compiled = gn.compile(module)
    expected = [float(expected_module(torch.ones(1) * (i + 1))) for i in range(4)]
    got = [float(compiled(gn.ones(1) * (i + 1))) for i in range(4)]
    assert got == expected == [1.0, 3.0, 5.0, 7.0]
    assert module.prev.tolist() == expected_module.prev.tolist() == [4.0]


def test_a_computed_tensor_kept_in_an_attribute_still_follows_each_call():
    class Running(gn.nn.Module):
        def __init__(self):
            super().__init__()
            self.last = gn.zeros(1)

        def forward(self, x):
            self.last = x * 2
            return x + 1

    module = Running()
    compiled = gn.compile(module)
    for i in range(4):
        compiled(gn.ones(1) * i)
    assert module.last.tolist() == [6.0]


@pytest.mark.parametrize("make", [lambda x: x.view(3), lambda x: x.reshape(3),
                                  lambda x: x.view_as(x), lambda x: x.reshape(-1),
                                  lambda x: x.ravel()])
def test_same_shape_view_is_a_new_tensor_sharing_storage(make):
    for T in (torch, gn):
        x = T.ones(3)
        y = make(x)
        assert y is not x
        y.requires_grad_()
        assert not x.requires_grad
        with T.no_grad():
            y.mul_(2)
        assert x.tolist() == [2.0, 2.0, 2.0]


def test_flatten_of_nothing_returns_the_input_itself_as_torch():
    for T in (torch, gn):
        x, y = T.ones(3), T.ones(2, 3)
        assert x.flatten() is x and y.flatten(1) is y and T.flatten(y, 0, 0) is y
        assert y.flatten() is not y
