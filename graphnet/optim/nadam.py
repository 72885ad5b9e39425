"""`graphnet.optim.nadam`, as `torch.optim.nadam`: where code imports NAdam from."""

from .adam_variants import NAdam

__all__ = ["NAdam"]
