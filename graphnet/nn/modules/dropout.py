"""`torch.nn.modules.dropout`'s names, for code that imports them from there."""

from __future__ import annotations

from .._activation import _DropoutNd  # noqa: F401
from .. import (  # noqa: F401
    AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
)
