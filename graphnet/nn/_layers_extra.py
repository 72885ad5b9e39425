"""Bilinear, EmbeddingBag and other layers."""

from __future__ import annotations

__all__: list[str] = []
