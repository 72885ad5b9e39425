"""Convolution arguments checked as PyTorch checks them: a bias of the wrong size and a weight
that `groups` does not divide raise PyTorch's message (they leaked a broadcasting or reshape
error from inside the kernel), and a float in padding/stride is a TypeError (int() truncated
`padding=(1.5, 1)` to 1 and ran)."""
import pytest
import torch

import graphnet as G

CASES = {
    "bias size": lambda L: L.nn.functional.conv2d(L.ones(2, 4, 8, 8), L.ones(4, 4, 3, 3),
                                                  L.ones(5)),
    "bias 2-d": lambda L: L.nn.functional.conv2d(L.ones(2, 4, 8, 8), L.ones(4, 4, 3, 3),
                                                 L.ones(4, 1)),
    "groups": lambda L: L.nn.functional.conv2d(L.ones(2, 4, 8, 8), L.ones(3, 2, 3, 3), groups=2),
    "transposed bias": lambda L: L.nn.functional.conv_transpose2d(
        L.ones(2, 4, 8, 8), L.ones(4, 3, 3, 3), L.ones(5), groups=2),
    "transposed groups": lambda L: L.nn.functional.conv_transpose2d(
        L.ones(2, 4, 8, 8), L.ones(4, 3, 3, 3), groups=3),
    "1-d bias": lambda L: L.nn.functional.conv1d(L.ones(2, 4, 8), L.ones(6, 2, 3), L.ones(5),
                                                 groups=2),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_pytorchs_message(case, compiled):
    with pytest.raises(RuntimeError) as want:
        CASES[case](torch)
    run = G.compile(lambda: CASES[case](G)) if compiled else (lambda: CASES[case](G))
    with pytest.raises(RuntimeError) as got:
        run()
    assert str(got.value).endswith(str(want.value))


def test_a_replaced_bias_of_the_wrong_size():
    conv = G.nn.Conv2d(3, 4, 3)
    conv.bias = G.nn.Parameter(G.zeros(5))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 4 elements"):
        conv(G.ones(1, 3, 5, 5))


@pytest.mark.parametrize("kw", [dict(padding=(1.5, 1)), dict(stride=(1.0, 1)),
                                dict(padding=1.0), dict(dilation=2.0)])
def test_float_sizes_are_type_errors(kw):
    with pytest.raises(TypeError):
        torch.nn.functional.conv2d(torch.ones(1, 2, 8, 8), torch.ones(3, 2, 3, 3), **kw)
    with pytest.raises(TypeError, match=f"{next(iter(kw))} must be an int or a tuple of ints"):
        G.nn.functional.conv2d(G.ones(1, 2, 8, 8), G.ones(3, 2, 3, 3), **kw)


def test_integer_like_sizes_still_work():
    import numpy as np

    x, w = G.ones(1, 2, 8, 8), G.ones(3, 2, 3, 3)
    assert G.nn.functional.conv2d(x, w, padding=G.tensor(1)).shape == (1, 3, 8, 8)
    assert G.nn.functional.conv2d(x, w, stride=np.int64(2)).shape == (1, 3, 3, 3)
