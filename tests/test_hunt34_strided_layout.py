"""`as_strided` of a tensor laid out channels-last (or any dense order other than
row-major) reads its storage in that order, as PyTorch's does: before, graphnet read the
NCHW values and gave other elements, eagerly and compiled, without an error."""

import numpy as np
import pytest
import torch

import graphnet as gn

_A = np.random.RandomState(0).randn(2, 3, 4, 2).astype(np.float32)


def _reads(L, x):
    y = (x * 1).contiguous(memory_format=L.channels_last)
    part = y[:, 1:].as_strided((3, 5), (4, 1)) * L.arange(15.0).reshape(3, 5)
    window = y.as_strided((2, 2, 3), (6, 3, 1), 5)
    return part.sum() + (window * window).sum(), part, window


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_as_strided_of_channels_last_reads_its_storage_order(compile_):
    x0 = torch.tensor(_A, requires_grad=True)
    loss0, part0, window0 = _reads(torch, x0)
    loss0.backward()
    x = gn.tensor(_A, requires_grad=True)
    loss, part, window = compile_(lambda x: _reads(gn, x))(x)
    loss.backward()
    np.testing.assert_allclose(part.detach().numpy(), part0.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(window.detach().numpy(), window0.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), x0.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_a_write_through_as_strided_of_channels_last_lands_in_storage_order():
    results = []
    for L in (torch, gn):
        y = L.tensor(_A).contiguous(memory_format=L.channels_last)
        y.as_strided((2, 3), (3, 1)).zero_()
        results.append(y.numpy())
    np.testing.assert_array_equal(results[1], results[0])


def test_as_strided_copy_and_scatter_follow_the_layout():
    src = np.arange(6.0, dtype=np.float32).reshape(2, 3) + 100
    outs = []
    for L in (torch, gn):
        y = L.tensor(_A).contiguous(memory_format=L.channels_last)
        outs.append((L.as_strided_copy(y, (2, 3), (4, 2), 1).numpy(),
                     L.as_strided_scatter(y, L.tensor(src), (2, 3), (4, 2), 1).numpy()))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][1])
