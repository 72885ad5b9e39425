"""More layout ops (rot90, diagonal, tile, repeat_interleave, unfold ...)."""

from __future__ import annotations
