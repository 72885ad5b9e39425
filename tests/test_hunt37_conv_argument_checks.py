"""A convolution's dilation, groups and kernel size are checked as PyTorch checks them, with
its words, eagerly and compiled. `conv1d(..., dilation=0)` returned numbers (a kernel of
span 1) where torch raises, which a dilation schedule such as `2 ** i - 1` in a temporal
convolutional network reaches; groups=0 raised a ZeroDivisionError from a transposed one.
Found by the time-series hunt."""

import pytest
import torch

import graphnet

CASES = [   # (function, input shape, weight shape, keywords)
    ("conv1d", (1, 2, 9), (2, 2, 3), {"dilation": 0}),
    ("conv1d", (1, 2, 9), (2, 2, 3), {"dilation": -1}),
    ("conv1d", (1, 2, 9), (2, 2, 3), {"groups": 0}),
    ("conv1d", (1, 2, 9), (2, 2, 3), {"groups": -1}),
    ("conv1d", (1, 2, 9), (2, 2, 0), {}),
    ("conv2d", (1, 2, 9, 9), (2, 2, 3, 3), {"dilation": (1, 0)}),
    ("conv2d", (1, 2, 9, 9), (2, 2, 3, 3), {"dilation": (-1, 1)}),
    ("conv2d", (1, 2, 9, 9), (2, 2, 0, 3), {}),
    ("conv3d", (1, 2, 5, 5, 5), (2, 2, 3, 3, 3), {"dilation": (1, 1, 0)}),
    ("conv3d", (1, 2, 5, 5, 5), (2, 2, 3, 0, 3), {}),
    ("conv_transpose1d", (1, 2, 9), (2, 2, 3), {"dilation": 0}),
    ("conv_transpose1d", (1, 2, 9), (2, 2, 3), {"dilation": -2}),
    ("conv_transpose1d", (1, 2, 9), (2, 2, 3), {"groups": 0}),
    ("conv_transpose1d", (1, 2, 9), (2, 2, 0), {}),
    ("conv_transpose2d", (1, 2, 9, 9), (2, 2, 3, 3), {"dilation": (1, 0)}),
    ("conv_transpose2d", (1, 2, 9, 9), (2, 2, 3, 3), {"groups": -1}),
    ("conv_transpose3d", (1, 2, 5, 5, 5), (2, 2, 3, 3, 3), {"dilation": (1, 1, 0)}),
]


def _message(L, name, x_shape, w_shape, kw):
    with pytest.raises(RuntimeError) as caught:
        getattr(L.nn.functional, name)(L.ones(*x_shape), L.ones(*w_shape), **kw)
    return str(caught.value)


@pytest.mark.parametrize("name,x_shape,w_shape,kw", CASES)
def test_bad_convolution_arguments_raise_torch_s_message(name, x_shape, w_shape, kw):
    want = _message(torch, name, x_shape, w_shape, kw)
    assert _message(graphnet, name, x_shape, w_shape, kw) == want


def test_a_compiled_convolution_with_dilation_zero_raises():
    conv = graphnet.nn.Conv1d(2, 2, 3, dilation=0)
    with pytest.raises(RuntimeError, match=r"dilation should be greater than zero, but got "
                                           r"\[1, 0\]"):
        graphnet.compile(conv)(graphnet.ones(1, 2, 9))


def test_the_module_raises_at_its_call_as_torch_s_does():
    for L in (torch, graphnet):
        conv = L.nn.Conv2d(2, 2, 3, dilation=(2, 0))
        with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
            conv(L.ones(1, 2, 9, 9))
