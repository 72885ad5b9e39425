"""`torch.nn.modules.adaptive`'s names, for code that imports them from there."""

from __future__ import annotations

from .._adaptive import _ASMoutput  # noqa: F401
from .. import (  # noqa: F401
    AdaptiveLogSoftmaxWithLoss
)
