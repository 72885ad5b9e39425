"""`torch.utils.hooks`' public names: `RemovableHandle`, the handle every `register_*hook`
returns (graphnet/autograd/_hooks.py), for code that builds its own hook tables."""

from __future__ import annotations

from ..autograd._hooks import RemovableHandle

__all__ = ["RemovableHandle"]
