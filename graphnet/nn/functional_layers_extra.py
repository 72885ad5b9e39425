"""Functional bilinear, embedding_bag and friends; the extra normalisations
(`instance_norm`, `rms_norm`) come from `functional_norm_extra.py`."""

from __future__ import annotations

from . import functional_norm_extra
from .functional_norm_extra import *  # noqa: F401,F403

__all__: list[str] = [*functional_norm_extra.__all__]
