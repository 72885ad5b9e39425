"""`graphnet.optim`: optimizers with PyTorch's parameter groups and state_dict."""

from ._optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
