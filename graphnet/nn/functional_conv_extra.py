"""Functional transposed convolutions, fold/unfold, pixel shuffle, pooling and norms."""

from __future__ import annotations

__all__: list[str] = []
