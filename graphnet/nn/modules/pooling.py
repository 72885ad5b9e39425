"""`torch.nn.modules.pooling`'s names, for code that imports them from there."""

from __future__ import annotations

from .._conv import _AdaptiveMaxPoolNd, _MaxPoolNd  # noqa: F401
from .._conv_extra import _LPPoolNd, _MaxUnpoolNd  # noqa: F401
from .. import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
    AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
    FractionalMaxPool2d, FractionalMaxPool3d, LPPool1d, LPPool2d, LPPool3d, MaxPool1d,
    MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
)
