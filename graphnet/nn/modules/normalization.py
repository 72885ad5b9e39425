"""`torch.nn.modules.normalization`'s names, for code that imports them from there."""

from __future__ import annotations

from .. import (  # noqa: F401
    CrossMapLRN2d, GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm
)
