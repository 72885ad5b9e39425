"""Parity cases of the convolution family's extra ops (graphnet/_ops/conv_extra.py and
conv_sample.py): transposed convs, im2col/col2im, max unpooling, the spatial transformer.
More configurations of each (strides, groups, padding modes, 3-d) are in
tests/test_conv_extra_functional.py."""

from __future__ import annotations

from op_case_kit import Case, _f, fixed, randn, unit


def _unpool(T, x):
    y, i = _f(T, "max_pool2d")(x, 2, return_indices=True)
    return _f(T, "max_unpool2d")(y * 2, i, 2, output_size=(5, 5))


def _theta():
    return fixed([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.05]], [[0.7, 0.4, 0.2], [-0.3, 0.8, 0.1]]])


def _warp(T, x, theta):
    grid = _f(T, "affine_grid")(theta, [2, 3, 5, 4], align_corners=False)
    return _f(T, "grid_sample")(x, grid, align_corners=False)


CASES = {
    "conv_transpose": Case(
        lambda T, x, w, b: _f(T, "conv_transpose2d")(x, w, b, stride=2, padding=1,
                                                     output_padding=1, groups=2, dilation=1),
        (randn(2, 4, 3, 5), randn(4, 3, 3, 2), randn(6)), atol=1e-4),
    "unfold_patches": Case(lambda T, x: _f(T, "unfold")(x, (2, 3), dilation=(1, 2), padding=1,
                                                        stride=(2, 1)),
                           (randn(2, 3, 5, 6),)),
    "fold_patches": Case(lambda T, x: _f(T, "fold")(x, (5, 6), (2, 3), padding=1, stride=2),
                         (randn(2, 12, 9),)),
    "max_unpool": Case(_unpool, (randn(2, 3, 4, 4),)),
    "affine_grid": Case(lambda T, theta: _f(T, "affine_grid")(theta, [2, 3, 5, 4],
                                                              align_corners=True), (_theta(),)),
    "grid_sample": Case(_warp, (randn(2, 3, 6, 7), _theta()), atol=1e-4),
    "fractional_max_pool": Case(
        lambda T, x, u: _f(T, "fractional_max_pool2d")(x, (2, 3), output_size=(4, 3),
                                                       return_indices=True, _random_samples=u),
        (randn(2, 3, 7, 8), unit(2, 3, 2)), no_grad=(1,)),
}
