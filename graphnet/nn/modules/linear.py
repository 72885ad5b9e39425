"""`torch.nn.modules.linear`'s names, for code that imports them from there."""

from __future__ import annotations

from .._attention import NonDynamicallyQuantizableLinear  # noqa: F401
from .. import (  # noqa: F401
    Bilinear, Identity, LazyLinear, Linear
)
