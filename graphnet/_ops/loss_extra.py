"""The rest of torch.nn's losses and distances."""

from __future__ import annotations
