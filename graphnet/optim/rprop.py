"""`graphnet.optim.rprop`, as `torch.optim.rprop`: where code imports Rprop from."""

from .classic import Rprop

__all__ = ["Rprop"]
