"""More pointwise ops (trigonometric, special functions, bitwise ...)."""

from __future__ import annotations
