"""`graphnet.utils`: helpers around models; `graphnet.utils.data` loads and batches data."""

from . import data

__all__ = ["data"]
