"""The conv kernel's two lowerings: XLA's native convolution and, for spatially small
outputs on CPU, shifted slices + one einsum (graphnet/_ops/conv.py). Both must equal PyTorch
in values and gradients, in dynamic and static mode, for every conv option."""

import jax
import numpy as np
import pytest
from jax import lax
from parity import check_module, torch

from graphnet import nn
from graphnet._ops import conv as conv_ops

rng = np.random.default_rng(0)

# (in, out, kernel, stride, padding, dilation, groups, input spatial)
CASES = [
    (4, 6, 3, 1, 1, 1, 1, (5, 5)),     # 25 outputs: matmul form on CPU
    (4, 6, 3, 2, 1, 2, 2, (7, 7)),     # strided, dilated, grouped
    (6, 6, 3, 1, 1, 1, 6, (4, 4)),     # depthwise
    (3, 4, 1, 2, 0, 1, 1, (6, 6)),     # 1x1, strided
    (2, 3, (2, 3), 1, (0, 1), 1, 1, (4, 5)),   # rectangular kernel and padding
    (3, 5, 3, 1, 1, 1, 1, (12, 12)),   # 144 outputs: native conv
]


def conv_forms(x, w, stride, padding, dilation, groups):
    nd = w.ndim - 2
    axes = "DHW"[-nd:]
    dims = lax.conv_dimension_numbers(x.shape, w.shape, ("NC" + axes, "OI" + axes, "NC" + axes))
    native = lax.conv_general_dilated(x, w, stride, padding, rhs_dilation=dilation,
                                      dimension_numbers=dims, feature_group_count=groups)
    out = conv_ops.conv_out_size(x.shape[2:], w.shape[2:], stride, padding, dilation)
    return native, conv_ops.conv_as_matmul(x, w, stride, padding, dilation, groups, out)


@pytest.mark.parametrize("nd, stride, padding, dilation, groups", [
    (1, (2,), [(1, 2)], (1,), 1),
    (2, (1, 2), [(1, 0), (2, 1)], (2, 1), 2),
    (3, (1, 1, 1), [(0, 0), (1, 1), (0, 1)], (1, 1, 1), 1),
])
def test_matmul_form_equals_native_conv(nd, stride, padding, dilation, groups):
    x = rng.standard_normal((2, 4) + (5,) * nd).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups) + (2,) * nd).astype(np.float32)
    native, matmul = conv_forms(x, w, stride, padding, dilation, groups)
    assert matmul.shape == native.shape
    np.testing.assert_allclose(np.asarray(matmul), np.asarray(native), atol=1e-5, rtol=1e-5)


def test_small_outputs_take_the_matmul_form_on_cpu():
    on_cpu = jax.default_backend() == "cpu"
    assert conv_ops._matmul_form_pays((8, 8)) == on_cpu
    assert conv_ops._matmul_form_pays((2, 2)) == on_cpu
    assert not conv_ops._matmul_form_pays((9, 8))
    assert not conv_ops._matmul_form_pays((0, 4))
    # batch 256 x 512 channels x 3x3 kernel at 8x8: 302M patch elements, too much memory
    assert not conv_ops._matmul_form_pays((8, 8), 256 * 512 * 9)
    assert conv_ops._matmul_form_pays((8, 8), 8 * 512 * 9) == on_cpu


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}to{c[1]}k{c[2]}s{c[3]}g{c[6]}"
                                                      f"x{c[7][0]}")
def test_conv2d_matches_torch_in_both_modes(case):
    c_in, c_out, k, stride, padding, dilation, groups, spatial = case
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    gn, tc = nn.Conv2d(c_in, c_out, k, **args), torch.nn.Conv2d(c_in, c_out, k, **args)
    x = rng.standard_normal((2, c_in) + spatial).astype(np.float32)
    check_module(gn, tc, [x])
