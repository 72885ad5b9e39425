"""A write through `.data` into a tensor's own storage (`w.data.mul_(2)`) between a forward
and its backward: PyTorch's backward reads the new values through every saved view of that
storage (linear saves `weight.t()`, and a reshaped input), while a new storage
(`w.data = ...`) leaves such a view the old values. graphnet used the old values for
linear's weight in both cases: a gradient half of PyTorch's, without an error."""

import numpy as np
import pytest
import torch

import graphnet

X = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
X3 = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10
W = np.eye(4, dtype=np.float32) + 0.1


def _grads(lib, case: str):
    x = lib.tensor(X3 if "3d" in case else X, requires_grad=True)
    w = lib.nn.Parameter(lib.tensor(W))
    y = lib.nn.functional.linear(x, w)
    out = (y * y).sum() if "square" in case else y.sum()
    if "new storage" in case:
        w.data = w.data * 2
    elif "input written" in case:
        x.data.mul_(3)
    else:
        w.data.mul_(2)
    out.backward()
    return x.grad.numpy().copy(), w.grad.numpy().copy()


@pytest.mark.parametrize("case", ["weight written", "weight written, square",
                                  "weight written, 3d input", "input written",
                                  "input written, 3d", "new storage"])
def test_linear_backward_reads_what_torch_reads(case):
    expected = _grads(torch, case)
    got = _grads(graphnet, case)
    for want, have in zip(expected, got):
        np.testing.assert_allclose(have, want, rtol=1e-6)


def test_a_written_weight_doubles_the_input_gradient():
    x_grad, _ = _grads(graphnet, "weight written")
    np.testing.assert_allclose(x_grad, np.full((3, 4), 2.8, np.float32), rtol=1e-6)
