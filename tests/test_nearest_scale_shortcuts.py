"""2-D nearest resize with a scale_factor whose output is the input's size or twice it:
PyTorch's kernel copies or halves the index there instead of flooring `i / scale`."""

import numpy as np
import pytest
import torch

import graphnet
import graphnet.nn.functional as F


@pytest.mark.parametrize("hw, scale", [((5, 7), 1.1), ((4, 10), 2.05), ((3, 3), (2.1, 1.1)),
                                       ((7, 5), 1.9), ((6, 6), 0.5)])
@pytest.mark.parametrize("compiled", [False, True])
def test_nearest_2d_matches_torch_values_and_grads(hw, scale, compiled):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + hw).astype(np.float32)
    up = rng.standard_normal(tuple(torch.nn.functional.interpolate(
        torch.tensor(x), scale_factor=scale, mode="nearest").shape)).astype(np.float32)

    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, scale_factor=scale, mode="nearest")
    (ty * torch.tensor(up)).sum().backward()

    def f(v):
        return F.interpolate(v, scale_factor=scale, mode="nearest")
    run = graphnet.compile(f) if compiled else f
    gx = graphnet.tensor(x, requires_grad=True)
    gy = run(gx)
    (gy * graphnet.tensor(up)).sum().backward()
    np.testing.assert_array_equal(gy.detach().numpy(), ty.detach().numpy())
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("nd", [1, 3])
def test_other_ranks_floor_the_scaled_index_as_torch_does(nd):
    x = np.arange(5 ** nd, dtype=np.float64).reshape((1, 1) + (5,) * nd)
    t = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.1, mode="nearest")
    g = F.interpolate(graphnet.tensor(x), scale_factor=1.1, mode="nearest")
    np.testing.assert_array_equal(g.numpy(), t.numpy())
