"""affine_grid's base grid to PyTorch's last bit: at the identity transform a spatial
transformer's theta gradient then takes the same side of each pixel centre as PyTorch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import graphnet as gn
import graphnet.nn.functional as F

SIZES = [(2, 3, 12, 12), (1, 1, 7, 5), (1, 2, 3, 4, 6), (1, 1, 1, 9)]


def _identity(size):
    nd = len(size) - 2
    theta = np.zeros((size[0], nd, nd + 1), np.float32)
    for i in range(nd):
        theta[:, i, i] = 1
    return theta


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", SIZES)
def test_base_grid_is_torchs_to_the_bit(size, align_corners):
    theta = _identity(size)
    want = TF.affine_grid(torch.tensor(theta), size, align_corners=align_corners).numpy()
    got = F.affine_grid(gn.tensor(theta), size, align_corners=align_corners).numpy()
    np.testing.assert_array_equal(got, want)


def _theta_grad(lib, functional, image, theta, align_corners, compiled=False):
    theta = lib.tensor(theta, requires_grad=True)

    def loss(theta, image):
        grid = functional.affine_grid(theta, list(image.shape), align_corners=align_corners)
        out = functional.grid_sample(image, grid, align_corners=align_corners)
        return (out * out).sum()

    (gn.compile(loss) if compiled else loss)(theta, lib.tensor(image)).backward()
    return theta.grad.numpy()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 12, 12), (1, 2, 4, 5, 6)])
def test_identity_theta_gradient_matches_torch(size, align_corners, compiled):
    image = np.random.default_rng(0).standard_normal(size).astype(np.float32) * 10
    theta = _identity(size)
    want = _theta_grad(torch, TF, image, theta, align_corners)
    got = _theta_grad(gn, F, image, theta, align_corners, compiled)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-2)
