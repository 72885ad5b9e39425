"""Linear algebra ops (addmm, baddbmm, outer, cdist, det, solve ...)."""

from __future__ import annotations
