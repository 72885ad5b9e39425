"""InstanceNorm1d/2d/3d, BatchNorm3d and RMSNorm with PyTorch's constructors, buffers,
state_dict keys and reprs."""

from __future__ import annotations

import warnings

from .. import _factories as fac
from .._tensor import Parameter
from . import functional_norm_extra as FX
from . import init
from ._module import Module
from ._norm import _BatchNorm

__all__ = ["BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm"]


class BatchNorm3d(_BatchNorm):
    """BatchNorm over [N, C, D, H, W].

    >>> nn.BatchNorm3d(4)(graphnet.randn(2, 4, 3, 3, 3)).shape
    graphnet.Size([2, 4, 3, 3, 3])
    """

    _ndims = (5,)
    _layout = "[N, {C}, D, H, W]"


class _InstanceNorm(_BatchNorm):
    """Normalise each sample's channels over their spatial positions. PyTorch's defaults:
    no affine parameters, no running statistics. With track_running_stats the statistics
    are updated in training and used in eval mode (num_batches_tracked stays 0, as in
    PyTorch)."""

    _no_batch_dim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        name = type(self).__name__
        if input.dim() not in (self._no_batch_dim, self._no_batch_dim + 1):
            raise ValueError(f"{name}: expected {self._no_batch_dim}D or "
                             f"{self._no_batch_dim + 1}D input (got {input.dim()}D input)")
        feature_dim = input.dim() - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          f"can silence this warning by not passing in num_features, which is "
                          f"not used because affine=False", stacklevel=2)
        unbatched = input.dim() == self._no_batch_dim
        x = input.unsqueeze(0) if unbatched else input
        y = FX.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training or not self.track_running_stats,
                             self.momentum if self.momentum is not None else 0.0, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """InstanceNorm over [N, C, L] or unbatched [C, L].

    >>> nn.InstanceNorm1d(3, affine=True)(graphnet.randn(2, 3, 8)).shape
    graphnet.Size([2, 3, 8])
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """InstanceNorm over [N, C, H, W] or unbatched [C, H, W]."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """InstanceNorm over [N, C, D, H, W] or unbatched [C, D, H, W]."""

    _no_batch_dim = 4


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing `normalized_shape` dims, times a
    learned elementwise `weight` (ones). eps=None uses the input dtype's machine epsilon.

    >>> nn.RMSNorm(16)(graphnet.randn(2, 5, 16)).shape
    graphnet.Size([2, 5, 16])
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(fac.ones(*self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return FX.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
