"""`graphnet.nn`: modules, containers, layers and losses with PyTorch's names and behaviour."""

from .._tensor import Parameter
from . import attention, functional, init, parallel, utils  # noqa: F401  (graphnet.nn.parallel)
from ._activation import (
    ELU, GELU, Dropout, Hardtanh, LeakyReLU, LogSoftmax, PReLU, ReLU, ReLU6, Sigmoid, SiLU,
    Softmax, Softplus, Tanh,
)
from ._activation_extra import (
    CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, LogSigmoid, Mish, RReLU, Softmin,
    Softshrink, Softsign, Tanhshrink, Threshold,
)
from ._conv import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d,
    AvgPool2d, Conv1d, Conv2d, Dropout1d, Dropout2d, MaxPool1d, MaxPool2d,
)
from ._norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, LocalResponseNorm
from ._containers import Container, ModuleDict, ModuleList, Sequential
from ._linear import Flatten, Identity, Linear, Unflatten
from ._loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)
from ._module import Module
from ._attention import Embedding, MultiheadAttention, TransformerEncoderLayer
from ._rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from ._param_containers import ParameterDict, ParameterList
from ._buffer import Buffer
from .parallel import DataParallel  # torch.nn.DataParallel is torch.nn.parallel's
from . import _conv_extra, _distance, _layers_extra, _loss_extra, _norm_extra, _transformer
from ._conv_extra import *  # noqa: F401,F403
from ._norm_extra import *  # noqa: F401,F403
from ._transformer import *  # noqa: F401,F403
from ._layers_extra import *  # noqa: F401,F403
from ._loss_extra import *  # noqa: F401,F403
from ._distance import *  # noqa: F401,F403

__all__ = [
    "Parameter", "functional", "init", "utils", "Module", "Sequential", "ModuleList", "ModuleDict",
    "Container",
    "Linear", "Identity", "Flatten", "Unflatten", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Tanh",
    "LeakyReLU", "ELU", "GELU", "Softplus", "Hardtanh", "PReLU", "Softmax", "LogSoftmax",
    "Dropout", "CrossEntropyLoss", "NLLLoss", "MSELoss",
    "ParameterList", "ParameterDict", "Buffer", "DataParallel",
]
__all__ += [
    "Embedding", "MultiheadAttention", "TransformerEncoderLayer", "RNNBase", "RNN", "GRU", "LSTM",
    "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Dropout1d", "Dropout2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "LocalResponseNorm",
]
__all__ += [
    "Mish", "Hardswish", "Hardsigmoid", "SELU", "CELU", "GLU", "Softsign", "Tanhshrink",
    "Threshold", "Softmin", "Hardshrink", "Softshrink", "LogSigmoid", "RReLU",
]
__all__ += [*_conv_extra.__all__, *_norm_extra.__all__, *_transformer.__all__,
            *_layers_extra.__all__, *_loss_extra.__all__, *_distance.__all__]
from . import modules, parameter  # noqa: E402,F401  (torch.nn.modules.loss ... paths)
