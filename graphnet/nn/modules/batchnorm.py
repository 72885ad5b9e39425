"""`torch.nn.modules.batchnorm`'s names, for code that imports them from there."""

from __future__ import annotations

from .._norm import _BatchNorm, _NormBase  # noqa: F401
from .. import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,
    SyncBatchNorm,
)
