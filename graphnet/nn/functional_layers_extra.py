"""Functional bilinear, embedding_bag and friends."""

from __future__ import annotations

__all__: list[str] = []
