"""`torch.nn.modules.channelshuffle`'s names, for code that imports them from there."""

from __future__ import annotations

from .. import (  # noqa: F401
    ChannelShuffle
)
