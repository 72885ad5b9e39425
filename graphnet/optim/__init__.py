"""`graphnet.optim`: optimizers with PyTorch's parameter groups and state_dict, and
`graphnet.optim.lr_scheduler`."""

from . import lr_scheduler
from ._optimizer import Optimizer
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adam_variants import Adamax, NAdam, RAdam
from .classic import ASGD, Adadelta, Rprop
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "Rprop", "SGD", "lr_scheduler"]
