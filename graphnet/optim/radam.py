"""`graphnet.optim.radam`, as `torch.optim.radam`: where code imports RAdam from."""

from .adam_variants import RAdam

__all__ = ["RAdam"]
