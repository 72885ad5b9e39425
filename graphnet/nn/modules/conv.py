"""`torch.nn.modules.conv`'s names, for code that imports them from there."""

from __future__ import annotations

from .._conv import _ConvNd  # noqa: F401
from .._conv_extra import _ConvTransposeNd  # noqa: F401
from .. import (  # noqa: F401
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, LazyConv1d,
    LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d
)
