"""`graphnet.models`: the networks of the seed tutorials, built from `graphnet.nn`.

Each builder's docstring gives its input size. Where torchvision has the model (AlexNet,
VGG-11, ResNet-18), module names and indices are torchvision's, so its state_dicts load
with strict=True; the others follow the seeds (d2l style).

>>> from graphnet.models import resnet18
>>> net = resnet18(num_classes=10).eval()
>>> fast = graphnet.compile(net)
"""

from .alexnet import AlexNet, alexnet, alexnet_small
from .densenet import DenseBlock, conv_block, densenet, transition_block
from .googlenet import Inception, googlenet
from .lenet import LeNet, LeNetD2L, LeNetSequential, LeNetSequentialOrderDict
from .nin import nin, nin_block
from .resnet import BasicBlock, Residual, ResNet, resnet18, resnet_block, resnet_d2l
from .rnn_lm import RNNLanguageModel
from .vgg import VGG, vgg, vgg11, vgg_block

__all__ = [
    "LeNet", "LeNetSequential", "LeNetSequentialOrderDict", "LeNetD2L",
    "AlexNet", "alexnet", "alexnet_small",
    "VGG", "vgg", "vgg11", "vgg_block",
    "nin", "nin_block",
    "Inception", "googlenet",
    "BasicBlock", "ResNet", "resnet18", "Residual", "resnet_block", "resnet_d2l",
    "DenseBlock", "conv_block", "transition_block", "densenet",
    "RNNLanguageModel",
]
