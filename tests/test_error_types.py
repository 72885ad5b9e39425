"""Errors a PyTorch program catches by type are raised as that type (graphnet's own classes
subclass it): a pool's padding (RuntimeError), Embedding's padding_idx (AssertionError),
interpolate's mode on the wrong rank (NotImplementedError). Before, the first two were
ValueErrors and the last a ShapeError, which `except RuntimeError` / `except
NotImplementedError` written for PyTorch missed. And F.softmax without `dim` takes PyTorch's
deprecated default, with its warning, instead of a TypeError."""

import warnings

import numpy as np
import pytest
from parity import np_of, torch

import graphnet

CALLS = {
    "max_pool_padding": lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 4, 4), 2,
                                                                 padding=2),
    "avg_pool_padding": lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 1, 4, 4), 2,
                                                                 padding=2),
    "embedding_padding_idx": lambda lib: lib.nn.Embedding(5, 2, padding_idx=7),
    "interpolate_bilinear_3d": lambda lib: lib.nn.functional.interpolate(
        lib.ones(1, 2, 4), scale_factor=2, mode="bilinear"),
    "interpolate_linear_4d": lambda lib: lib.nn.functional.interpolate(
        lib.ones(1, 2, 4, 4), scale_factor=2, mode="linear"),
    "interpolate_size_with_recompute": lambda lib: lib.nn.functional.interpolate(
        lib.ones(1, 1, 2, 2), size=3, recompute_scale_factor=True),
}


@pytest.mark.parametrize("name", CALLS)
def test_the_error_is_an_instance_of_torchs_type(name):
    with pytest.raises(Exception) as want:
        CALLS[name](torch)
    with pytest.raises(type(want.value)):
        CALLS[name](graphnet)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_takes_torchs_default(fn, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        got = getattr(graphnet.nn.functional, fn)(graphnet.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(torch.nn.functional, fn)(torch.tensor(x))
    np.testing.assert_allclose(np_of(got), want.numpy(), rtol=1e-6, atol=1e-7)
