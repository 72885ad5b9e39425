"""More elementwise math and reductions as PyTorch spells them."""

from __future__ import annotations

__all__: list[str] = []
