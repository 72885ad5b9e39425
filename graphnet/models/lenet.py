"""LeNet as the seed tutorials build it, in the three styles they teach (a Module subclass
with one attribute per layer; `nn.Sequential`; `nn.Sequential` over an `OrderedDict` of named
layers), plus the Fashion-MNIST LeNet with sigmoid activations.

The three styles compute the same function and take `classes`, `in_channels` and
`image_size`: the seeds' defaults are 3x32x32 RGB images (16*5*5 features after the two
conv/pool stages); `in_channels=1, image_size=28` gives the MNIST-sized 1x28x28 version
(16*4*4 features).

>>> net = LeNet(classes=2)
>>> net(graphnet.randn(4, 3, 32, 32)).shape
graphnet.Size([4, 2])
"""

from __future__ import annotations

from collections import OrderedDict

import graphnet.nn.functional as F
from graphnet import nn


def _flat_features(image_size: int) -> int:
    """Features after conv5 -> pool2 -> conv5 -> pool2 on a square image of side `image_size`."""
    side = ((image_size - 4) // 2 - 4) // 2
    if side < 1:
        raise ValueError(f"LeNet needs images of at least 16x16 (two 5x5 convs and two 2x2 "
                         f"pools); got image_size={image_size}")
    return 16 * side * side


class LeNet(nn.Module):
    """Style 1: every layer is an attribute; pooling and activations are functional calls.

    Input [N, in_channels, image_size, image_size] -> logits [N, classes]."""

    def __init__(self, classes: int = 2, in_channels: int = 3, image_size: int = 32):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(_flat_features(image_size), 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.conv1(x)), 2)
        out = F.max_pool2d(F.relu(self.conv2(out)), 2)
        out = out.view(out.size(0), -1)
        out = F.relu(self.fc1(out))
        out = F.relu(self.fc2(out))
        return self.fc3(out)


class LeNetSequential(nn.Module):
    """Style 2: a `features` Sequential (conv, pool) and a `classifier` Sequential (fc).

    Input [N, in_channels, image_size, image_size] -> logits [N, classes]."""

    def __init__(self, classes: int = 2, in_channels: int = 3, image_size: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(_flat_features(image_size), 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size()[0], -1)
        return self.classifier(x)


class LeNetSequentialOrderDict(nn.Module):
    """Style 3: the same Sequentials built from an `OrderedDict`, so layers have names
    (`features.conv1`, `classifier.fc3`) instead of indices.

    Input [N, in_channels, image_size, image_size] -> logits [N, classes]."""

    def __init__(self, classes: int = 2, in_channels: int = 3, image_size: int = 32):
        super().__init__()
        self.features = nn.Sequential(OrderedDict({
            "conv1": nn.Conv2d(in_channels, 6, 5),
            "relu1": nn.ReLU(inplace=True),
            "pool1": nn.MaxPool2d(kernel_size=2, stride=2),
            "conv2": nn.Conv2d(6, 16, 5),
            "relu2": nn.ReLU(inplace=True),
            "pool2": nn.MaxPool2d(kernel_size=2, stride=2),
        }))
        self.classifier = nn.Sequential(OrderedDict({
            "fc1": nn.Linear(_flat_features(image_size), 120),
            "relu3": nn.ReLU(),
            "fc2": nn.Linear(120, 84),
            "relu4": nn.ReLU(inplace=True),
            "fc3": nn.Linear(84, classes),
        }))

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size()[0], -1)
        return self.classifier(x)


class LeNetD2L(nn.Module):
    """The Fashion-MNIST LeNet of the autograd/CNN seed: sigmoid activations, a `conv`
    Sequential and an `fc` Sequential. Input [N, 1, 28, 28] -> logits [N, 10]."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2),
        )
        self.fc = nn.Sequential(
            nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, 10),
        )

    def forward(self, img):
        feature = self.conv(img)
        return self.fc(feature.view(img.shape[0], -1))
