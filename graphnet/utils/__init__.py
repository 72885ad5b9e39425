"""`graphnet.utils`: helpers around models; `graphnet.utils.data` loads and batches data."""

from . import _pytree, checkpoint, data, deterministic  # noqa: F401  (_pytree: torch.utils._pytree's tree helpers)

__all__ = ["checkpoint", "data", "deterministic"]
