"""`torch.nn.modules.instancenorm`'s names, for code that imports them from there."""

from __future__ import annotations

from .._norm_extra import _InstanceNorm  # noqa: F401
from .. import (  # noqa: F401
    InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
    LazyInstanceNorm3d
)
