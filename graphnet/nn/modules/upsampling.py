"""`torch.nn.modules.upsampling`'s names, for code that imports them from there."""

from __future__ import annotations

from .. import (  # noqa: F401
    Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
)
