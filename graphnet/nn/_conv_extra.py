"""Transposed convolutions, upsampling, pixel shuffle, fold/unfold, padding, 3-d pooling."""

from __future__ import annotations

__all__: list[str] = []
