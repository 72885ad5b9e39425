"""Pooling arguments PyTorch refuses are refused: a dilation below 1 (0 pooled one-pixel
windows), a negative padding (it cropped), a negative stride (a misleading "too small"
error), and max_unpool indices that are not int64."""
import pytest
import torch

import graphnet as G

CASES = [
    (lambda F, x: F.max_pool2d(x, 2, 1, 0, 0), "dilation should be greater than zero"),
    (lambda F, x: F.max_pool2d(x, 2, 1, 0, -1), "dilation should be greater than zero"),
    (lambda F, x: F.max_pool2d(x, 2, 1, -1), "pad must be non-negative"),
    (lambda F, x: F.avg_pool2d(x, 2, 1, -1), "pad must be non-negative"),
    (lambda F, x: F.avg_pool1d(x[0], 2, 1, -1), "pad must be non-negative"),
    (lambda F, x: F.max_pool2d(x, 2, -1), "stride should be greater than zero"),
    (lambda F, x: F.avg_pool2d(x, 2, -1), "stride should be greater than zero"),
    (lambda F, x: F.max_pool3d(x[None], 2, 1, 0, 0), "dilation should be greater than zero"),
]


@pytest.mark.parametrize("call, message", CASES)
def test_bad_pool_arguments_raise_like_torch(call, message):
    for lib in (torch, G):
        with pytest.raises(RuntimeError, match=message):
            call(lib.nn.functional, lib.zeros(1, 1, 5, 6))


@pytest.mark.parametrize("dtype, name", [("int32", "Int"), ("float32", "Float")])
def test_max_unpool_wants_int64_indices(dtype, name):
    for lib in (torch, G):
        x = lib.ones(1, 1, 2, 2)
        with pytest.raises(RuntimeError, match=f"should be type int64 but got: {name}"):
            lib.nn.functional.max_unpool2d(x, lib.zeros(1, 1, 2, 2, dtype=getattr(lib, dtype)), 2)
        out = lib.nn.functional.max_unpool2d(x, lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2)
        assert tuple(out.shape) == (1, 1, 4, 4)
