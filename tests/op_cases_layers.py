"""Parity cases of the layer family (graphnet/_ops/layers_extra.py): embedding_bag here;
PyTorch's legacy cross-map LRN is reached only through nn.CrossMapLRN2d."""

from __future__ import annotations

import numpy as np
from op_case_kit import Case, _f, fixed, ints, randn

CASES = {
    "embedding_bag": Case(
        lambda T, i, w, o, psw: _f(T, "embedding_bag")(i, w, o, mode="sum",
                                                       per_sample_weights=psw),
        (ints(0, 10, 8), randn(10, 3), fixed([0, 2, 2, 5], np.int64), randn(8))),
}

ELSEWHERE = {
    "fake_quantize_per_tensor_affine_cachemask": (
        "fake_quantize_per_tensor_affine", "tests/test_hunt37_fake_quantize.py",
        "test_per_tensor_matches_torch"),
    "fake_quantize_per_tensor_affine_cachemask_tensor_qparams": (
        "fake_quantize_per_tensor_affine", "tests/test_hunt37_fake_quantize.py",
        "test_per_tensor_matches_torch"),
    "fake_quantize_per_channel_affine_cachemask": (
        "fake_quantize_per_channel_affine", "tests/test_hunt37_fake_quantize.py",
        "test_per_channel_matches_torch"),
    "cross_map_lrn2d": ("nn.CrossMapLRN2d", "tests/test_layers_extra.py",
                        "test_cross_map_lrn2d_values_and_pytorch_gradient"),
}
