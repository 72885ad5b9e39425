"""The `torch.*` spellings of layer functions (`torch.conv2d`, `torch.layer_norm`,
`torch.dropout`, ...), with ATen's argument orders where they differ from
`torch.nn.functional`'s (`torch.embedding(weight, indices)`, `torch.batch_norm(input, weight,
bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)`); window functions
(`hann_window` ...); and the in-place functional forms (`F.relu_`, `torch.selu_` ...).

Each is the same graphnet function underneath, so it runs in both modes exactly as the
functional form does."""

from __future__ import annotations

import math

import numpy as np

from ._overlap import inplace as _inplace
from . import _factories
from ._tensor import Tensor
from .nn import functional as F

# Same signature as torch.nn.functional's: re-exported under torch.*'s name.
_SAME = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d", "avg_pool1d", "max_pool2d", "max_pool3d", "adaptive_avg_pool1d",
         "bilinear", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "prelu", "rrelu",
         "selu", "celu", "hardshrink", "rms_norm", "layer_norm", "group_norm", "threshold")

__all__ = [n for n in _SAME if hasattr(F, n)]
globals().update({n: getattr(F, n) for n in __all__})


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode,
                        return_indices=True)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as torch.adaptive_max_pool1d returns both."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def dropout(input, p: float, train: bool):
    return F.dropout(input, p, train)


def alpha_dropout(input, p: float, train: bool):
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p: float, train: bool):
    return F.feature_alpha_dropout(input, p, train)


def feature_dropout(input, p: float, train: bool):
    """Whole-channel dropout (F.dropout1d/2d/3d by rank) with ATen's signature."""
    if input.dim() <= 3:
        return F.dropout1d(input, p, train)
    return F.dropout2d(input, p, train) if input.dim() == 4 else F.dropout3d(input, p, train)


def batch_norm(input, weight, bias, running_mean, running_var, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool = True):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool = True):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def embedding(weight, indices, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False):
    """`torch.embedding` (aten's argument order): rows of `weight` at `indices`. Its
    `padding_idx` is compared with the indices as given, so a negative one or one past the
    rows freezes none (`F.embedding`'s counts from the end and must be in range). Before,
    `scale_grad_by_freq` was dropped and -2 froze row n-2."""
    rows = weight.shape[0] if isinstance(weight, Tensor) and weight.dim() else 0
    padding = int(padding_idx) if 0 <= int(padding_idx) < rows else None
    return F.embedding(indices, weight, padding, scale_grad_by_freq=scale_grad_by_freq,
                       sparse=sparse)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, tuple(pad), mode="constant", value=value)


def _window(values: np.ndarray, dtype, requires_grad: bool, device):
    from ._default_dtype import default_float

    # the default dtype, as PyTorch's (float64 after set_default_dtype); computed in float64
    return _factories.tensor(values, dtype=dtype or default_float(), device=device,
                             requires_grad=requires_grad)


def _n(window_length: int, periodic: bool) -> int:
    return window_length + 1 if periodic else window_length


def _cosine_window(window_length, periodic, coefficients, dtype, requires_grad, device):
    if window_length == 1:
        return _window(np.ones(1), dtype, requires_grad, device)
    n = _n(window_length, periodic)
    k = np.arange(window_length)
    values = sum(((-1) ** i) * a * np.cos(2 * math.pi * i * k / (n - 1))
                 for i, a in enumerate(coefficients))
    return _window(values, dtype, requires_grad, device)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, device=None,
                requires_grad: bool = False, layout=None):
    return _cosine_window(window_length, periodic, (0.5, 0.5), dtype, requires_grad, device)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, device=None, requires_grad: bool = False,
                   layout=None):
    return _cosine_window(window_length, periodic, (alpha, beta), dtype, requires_grad, device)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, device=None,
                    requires_grad: bool = False, layout=None):
    return _cosine_window(window_length, periodic, (0.42, 0.5, 0.08), dtype, requires_grad,
                          device)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, device=None,
                    requires_grad: bool = False, layout=None):
    if window_length == 1:
        return _window(np.ones(1), dtype, requires_grad, device)
    n = _n(window_length, periodic)
    k = np.arange(window_length)
    values = 1 - np.abs(2 * k / (n - 1) - 1)
    return _window(values, dtype, requires_grad, device)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype=None, device=None, requires_grad: bool = False, layout=None):
    if window_length == 1:
        return _window(np.ones(1), dtype, requires_grad, device)
    n = _n(window_length, periodic)
    k = np.arange(window_length)
    values = np.i0(beta * np.sqrt(1 - ((k - (n - 1) / 2) / ((n - 1) / 2)) ** 2)) / np.i0(beta)
    return _window(values, dtype, requires_grad, device)


for _name in ("relu", "elu", "leaky_relu", "hardtanh", "celu", "selu", "rrelu", "threshold"):
    if hasattr(F, _name) and not hasattr(F, _name + "_"):
        setattr(F, _name + "_", _inplace(getattr(F, _name)))

celu_, selu_, rrelu_, threshold_ = (getattr(F, n + "_") for n in ("celu", "selu", "rrelu",
                                                                   "threshold"))


def dropout_(input, p: float, train: bool):
    return input._assign(F.dropout(input, p, train))


def alpha_dropout_(input, p: float, train: bool):
    return input._assign(F.alpha_dropout(input, p, train))


def feature_dropout_(input, p: float, train: bool):
    return input._assign(feature_dropout(input, p, train))


def feature_alpha_dropout_(input, p: float, train: bool):
    return input._assign(F.feature_alpha_dropout(input, p, train))


__all__ += ["max_pool1d", "max_pool1d_with_indices", "adaptive_max_pool1d", "dropout",
            "alpha_dropout", "feature_alpha_dropout", "feature_dropout", "batch_norm",
            "instance_norm", "embedding", "constant_pad_nd", "hann_window", "hamming_window",
            "blackman_window", "bartlett_window", "kaiser_window", "celu_", "selu_", "rrelu_",
            "threshold_", "dropout_", "alpha_dropout_", "feature_dropout_",
            "feature_alpha_dropout_"]
