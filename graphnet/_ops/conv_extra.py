"""Transposed convolutions, fold/unfold, pixel shuffle, 3-d pooling and padding modes."""

from __future__ import annotations
