"""`graphnet.autograd`: torch.autograd's functions and classes."""

from __future__ import annotations

__all__: list[str] = []
