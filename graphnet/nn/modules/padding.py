"""`torch.nn.modules.padding`'s names, for code that imports them from there."""

from __future__ import annotations

from .._resample import _CircularPadNd, _ConstantPadNd  # noqa: F401
from .. import (  # noqa: F401
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d
)
