"""`graphnet.optim`: optimizers with PyTorch's parameter groups and state_dict, and
`graphnet.optim.lr_scheduler`."""

from . import lr_scheduler
from ._optimizer import Optimizer
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
