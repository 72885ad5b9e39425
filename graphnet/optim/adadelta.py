"""`graphnet.optim.adadelta`, as `torch.optim.adadelta`: where code imports Adadelta from."""

from .classic import Adadelta

__all__ = ["Adadelta"]
