"""F.interpolate's linear modes on an axis whose size the scale factor leaves unchanged
(3 rows x 1.2 -> 3): PyTorch's kernels keep that axis as it is; graphnet resampled it by
1/scale, silently, in both modes (found by the twenty-ninth session's hunt)."""

import numpy as np
import pytest
from parity import torch

import graphnet

CASES = [
    ((1, 1, 5), 1.1, "linear"),
    ((2, 3, 7), 1.05, "linear"),
    ((1, 1, 3, 5), 1.2, "bilinear"),                  # H 3 -> 3, W 5 -> 6
    ((1, 2, 4, 5), (1.1, 2.0), "bilinear"),
    ((1, 1, 6, 6), 1.1, "bilinear"),                  # both unchanged
    ((1, 1, 2, 3, 5), (1.1, 1.0, 2.0), "trilinear"),
    ((1, 1, 4, 3, 5), 1.2, "trilinear"),
]


@pytest.mark.parametrize("shape,scale,mode", CASES)
def test_an_unchanged_axis_is_not_resampled(shape, scale, mode):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.interpolate(tx, scale_factor=scale, mode=mode)
    g = np.random.default_rng(1).standard_normal(tuple(want.shape)).astype(np.float32)
    want.backward(torch.tensor(g))

    def run(v):
        return graphnet.nn.functional.interpolate(v, scale_factor=scale, mode=mode)
    for fn in (run, graphnet.compile(run)):
        gx = graphnet.tensor(x, requires_grad=True)
        out = fn(gx)
        out.backward(graphnet.tensor(g))
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
