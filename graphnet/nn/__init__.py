"""`graphnet.nn`: modules, containers, layers and losses with PyTorch's names and behaviour."""

from .._tensor import Parameter
from . import functional, init
from ._activation import (
    ELU, GELU, Dropout, Hardtanh, LeakyReLU, LogSoftmax, PReLU, ReLU, ReLU6, Sigmoid, SiLU,
    Softmax, Softplus, Tanh,
)
from ._containers import ModuleDict, ModuleList, Sequential
from ._linear import Flatten, Identity, Linear, Unflatten
from ._loss import CrossEntropyLoss, MSELoss, NLLLoss
from ._module import Module

__all__ = [
    "Parameter", "functional", "init", "Module", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Unflatten", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Tanh",
    "LeakyReLU", "ELU", "GELU", "Softplus", "Hardtanh", "PReLU", "Softmax", "LogSoftmax",
    "Dropout", "CrossEntropyLoss", "NLLLoss", "MSELoss",
]
