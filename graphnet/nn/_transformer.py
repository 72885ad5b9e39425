"""The Transformer family: encoder, decoder and the full Transformer."""

from __future__ import annotations

__all__: list[str] = []
