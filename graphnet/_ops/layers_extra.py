"""Layer ops: embedding_bag, bilinear ..."""

from __future__ import annotations
