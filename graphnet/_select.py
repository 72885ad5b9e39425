"""Value-dependent selection: nonzero, unique, bincount, masked_select ..."""

from __future__ import annotations

__all__: list[str] = []
