"""grid_sample edges (thirty-fourth session's rendering hunt): an empty batch or no
channels raised ZeroDivisionError; a NaN grid coordinate read pixel 0 in nearest mode
(PyTorch reads 0) and, bilinear, sent NaN gradient into real pixels shared with valid
points (its position cast to an integer is 0 in XLA, outside the image in PyTorch)."""

import numpy as np
import pytest
import torch

import graphnet as gn

_COMPILE = pytest.mark.parametrize("compile_", [lambda f: f, gn.compile],
                                   ids=["dynamic", "static"])


@_COMPILE
@pytest.mark.parametrize("shapes", [((0, 1, 3, 4), (0, 2, 3, 2)), ((2, 0, 3, 4), (2, 2, 3, 2)),
                                    ((2, 0, 2, 3, 4), (2, 1, 2, 3, 3))])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_empty_batch_or_channels(shapes, mode, compile_):
    x_shape, g_shape = shapes
    expected = torch.nn.functional.grid_sample(torch.zeros(x_shape), torch.zeros(g_shape),
                                               mode=mode, align_corners=False)
    x = gn.zeros(x_shape, requires_grad=True)
    out = compile_(lambda x, g: gn.nn.functional.grid_sample(
        x, g, mode=mode, align_corners=False))(x, gn.zeros(g_shape))
    assert tuple(out.shape) == tuple(expected.shape)
    out.sum().backward()
    assert tuple(x.grad.shape) == x_shape


_IMAGE = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)


@_COMPILE
def test_nearest_reads_nothing_at_a_nan_coordinate(compile_):
    grid = np.array([[[[np.nan, 0.0], [0.0, np.nan], [0.2, 0.1]]]], np.float32)
    expected = torch.nn.functional.grid_sample(torch.tensor(_IMAGE), torch.tensor(grid),
                                               mode="nearest", align_corners=False)
    out = compile_(lambda x, g: gn.nn.functional.grid_sample(
        x, g, mode="nearest", align_corners=False))(gn.tensor(_IMAGE), gn.tensor(grid))
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@_COMPILE
def test_a_nan_point_sends_no_gradient_into_shared_pixels(compile_):
    grid = np.array([np.nan, 0.0, 0.2, 0.1], np.float32).reshape(1, 1, 2, 2)
    x0 = torch.tensor(_IMAGE, requires_grad=True)
    out0 = torch.nn.functional.grid_sample(x0, torch.tensor(grid), align_corners=False)
    out0.nansum().backward()
    x = gn.tensor(_IMAGE, requires_grad=True)
    out = compile_(lambda x, g: gn.nn.functional.grid_sample(x, g, align_corners=False))(
        x, gn.tensor(grid))
    out.nansum().backward()
    np.testing.assert_array_equal(np.isnan(out.detach().numpy()),
                                  np.isnan(out0.detach().numpy()))
    np.testing.assert_allclose(x.grad.numpy(), x0.grad.numpy(), rtol=1e-5, atol=1e-7)
