"""An in-place op on a view that saves its output (`F.relu(h[:, :2], inplace=True)`,
`h[1].exp_()`) saves the view, which shares its base's version counter, as PyTorch's does: a
later write of the base or of any view of it refuses the backward with PyTorch's error in
dynamic mode too (it returned the gradient of the values before the write; static mode
already refused). Without such a write, or with the write before, the backward runs."""

import numpy as np
import pytest
import torch

import graphnet

_W = np.random.RandomState(0).randn(3, 4).astype(np.float32)
_X = np.random.RandomState(1).randn(5, 3).astype(np.float32)

_CASES = {
    "relu_view_then_base": lambda T, h: (T.nn.functional.relu(h[:, :2], inplace=True),
                                         h.mul_(2)),
    "two_views": lambda T, h: (T.nn.functional.relu(h[:, :2], inplace=True),
                               T.nn.functional.relu(h[:, 2:], inplace=True)),
    "leaky_then_setitem": lambda T, h: (T.nn.functional.leaky_relu(h[1:, 2:], 0.3,
                                                                     inplace=True),
                                        h.__setitem__((slice(None), 0), 0.0)),
    "sigmoid_then_slice_zero": lambda T, h: (h[:, :2].sigmoid_(), h[:, 3:].zero_()),
    "exp_row_then_base": lambda T, h: (h[1].exp_(), h.add_(1)),
    "relu_view_only": lambda T, h: T.nn.functional.relu(h[:, :2], inplace=True),
    "write_before": lambda T, h: (h[:, 3:].zero_(), h[:, :2].relu_()),
    "mul_view_then_base": lambda T, h: (h[1].mul_(2), h.add_(1)),   # mul saves no output
    "elu_view_then_setitem": lambda T, h: (T.nn.functional.elu(h[1:, 2:], inplace=True),
                                           h.__setitem__((slice(None), 0), 0.0)),
    "tanh_view_then_mul": lambda T, h: (h[1:, 2:].tanh_(), h.mul_(2)),
    "hardtanh_view_then_mul": lambda T, h: (T.nn.functional.hardtanh(h[1:, 2:], inplace=True),
                                            h.mul_(2)),   # torch's hardtanh_ saves its input
    "silu_view_then_mul": lambda T, h: (T.nn.functional.silu(h[1:, 2:], inplace=True),
                                        h.mul_(2)),
}


def _run(T, case):
    w = T.tensor(_W, requires_grad=True)
    h = T.tensor(_X) @ w
    _CASES[case](T, h)
    try:
        (h * h).sum().backward()
    except RuntimeError as error:
        return str(error).split(":")[0]
    return w.grad.numpy()


@pytest.mark.parametrize("case", sorted(_CASES))
def test_view_output_versions_as_torch(case):
    want, got = _run(torch, case), _run(graphnet, case)
    if isinstance(want, str):
        assert got == want == "one of the variables needed for gradient computation has " \
                              "been modified by an inplace operation"
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
