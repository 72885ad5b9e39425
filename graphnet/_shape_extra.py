"""More shape and contraction functions as PyTorch spells them."""

from __future__ import annotations

__all__: list[str] = []
