"""The rest of torch.nn.functional's losses and distances."""

from __future__ import annotations

__all__: list[str] = []
