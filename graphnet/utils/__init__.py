"""`graphnet.utils`: helpers around models; `graphnet.utils.data` loads and batches data."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
