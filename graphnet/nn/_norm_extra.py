"""InstanceNorm1d/2d/3d, BatchNorm3d, SyncBatchNorm and RMSNorm with PyTorch's
constructors, buffers, state_dict keys and reprs."""

from __future__ import annotations

import warnings

from .. import _factories as fac
from .. import distributed
from .._mode import tracing
from .._tensor import Parameter
from . import functional_norm_extra as FX
from . import init
from ._module import Module
from ._norm import _BatchNorm, _NormBase

__all__ = ["BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm",
           "SyncBatchNorm"]


class BatchNorm3d(_BatchNorm):
    """BatchNorm over [N, C, D, H, W].

    >>> nn.BatchNorm3d(4)(graphnet.randn(2, 4, 3, 3, 3)).shape
    graphnet.Size([2, 4, 3, 3, 3])
    """

    _ndims = (5,)
    _layout = "[N, {C}, D, H, W]"


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over [N, C, *] whose batch statistics are those of the global batch.

    Under `nn.parallel.DistributedDataParallel` every batch norm already normalises with the
    statistics of the whole (sharded) global batch, so this is BatchNorm with PyTorch's
    constructor, checks and `convert_sync_batchnorm`; in one process it is plain BatchNorm,
    as PyTorch's is. Training on a process-local batch with several processes and no
    DistributedDataParallel raises: those statistics would not be synchronised.

    >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(4)))
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input(self, input) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        if self.training and _local_batch_of_many_processes(input):
            raise ValueError("SyncBatchNorm: this process's input is a local batch of a "
                             f"{distributed.get_world_size()}-process run, whose statistics "
                             "graphnet would not synchronise; wrap the model in "
                             "nn.parallel.DistributedDataParallel, which normalises with the "
                             "global batch")

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """Every BatchNorm*d of `module` replaced by a SyncBatchNorm sharing its parameters
        and buffers (a BatchNorm `module` itself gives a new SyncBatchNorm); instance norms
        are left alone, as in PyTorch."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(out, name, getattr(module, name))
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


def _local_batch_of_many_processes(input) -> bool:
    """True for an eager input held whole by this process of a multi-process run (no
    DistributedDataParallel made it a global array)."""
    if tracing() or not distributed.is_initialized() or distributed.get_world_size() < 2:
        return False
    value = getattr(input, "_value", None)
    return bool(getattr(value, "is_fully_addressable", False))


class _InstanceNorm(_NormBase):
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
