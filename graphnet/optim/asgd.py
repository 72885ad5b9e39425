"""`graphnet.optim.asgd`, as `torch.optim.asgd`: where code imports ASGD from."""

from .classic import ASGD

__all__ = ["ASGD"]
