"""The rest of torch.nn's loss modules."""

from __future__ import annotations

__all__: list[str] = []
