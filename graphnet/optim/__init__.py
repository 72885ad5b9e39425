"""`graphnet.optim`: optimizers with PyTorch's parameter groups and state_dict, and
`graphnet.optim.lr_scheduler`."""

from . import lr_scheduler, optimizer, swa_utils
from ._optimizer import Optimizer
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adam_variants import Adamax, NAdam, RAdam
from .classic import ASGD, Adadelta, Rprop
from .lbfgs import LBFGS
from .muon import Muon
from .rmsprop import RMSprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS",
           "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam",
           "lr_scheduler", "optimizer", "swa_utils"]
