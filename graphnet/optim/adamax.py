"""`graphnet.optim.adamax`, as `torch.optim.adamax`: where code imports Adamax from."""

from .adam_variants import Adamax

__all__ = ["Adamax"]
