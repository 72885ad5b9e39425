"""VGG: the seed's `vgg_block` and `vgg` (d2l style: Sequential of named blocks and an `fc`
head), and `vgg11` in torchvision's layout (`features`, `avgpool`, `classifier` with
torchvision's indices, so a torchvision `vgg11` state_dict loads with strict=True).

torchvision's `features` for VGG-11 is exactly the seed's blocks laid end to end
(conv, relu, ..., maxpool per block), so `vgg11` builds it from `vgg_block`s.

>>> net = vgg11(num_classes=10, width=8, hidden=64)
>>> net(graphnet.randn(1, 3, 32, 32)).shape
graphnet.Size([1, 10])
"""

from __future__ import annotations

import graphnet
from graphnet import nn

# VGG-11 (torchvision's configuration "A") as (num_convs, out_channels / 64) per block
VGG11_BLOCKS = ((1, 1), (1, 2), (2, 4), (2, 8), (2, 8))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """`num_convs` 3x3 convs (padding 1) each followed by ReLU, then a 2x2 max pool that
    halves height and width."""
    blk = []
    for i in range(num_convs):
        blk.append(nn.Conv2d(in_channels if i == 0 else out_channels, out_channels,
                             kernel_size=3, padding=1))
        blk.append(nn.ReLU())
    blk.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*blk)


def vgg(conv_arch, fc_features: int, fc_hidden_units: int = 4096,
        num_classes: int = 10) -> nn.Sequential:
    """The seed's VGG: blocks `vgg_block_1..` from `conv_arch` (a sequence of
    (num_convs, in_channels, out_channels)), then `fc` (flatten, two hidden Linear layers with
    dropout, the output Linear). `fc_features` = last out_channels * (side / 2**blocks)**2,
    e.g. 512*7*7 for the seed's 1x224x224 Fashion-MNIST input."""
    net = nn.Sequential()
    for i, (num_convs, in_channels, out_channels) in enumerate(conv_arch):
        net.add_module("vgg_block_" + str(i + 1), vgg_block(num_convs, in_channels, out_channels))
    net.add_module("fc", nn.Sequential(
        nn.Flatten(),
        nn.Linear(fc_features, fc_hidden_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_hidden_units, fc_hidden_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_hidden_units, num_classes),
    ))
    return net


class VGG(nn.Module):
    """torchvision's VGG around a `features` Sequential whose last block outputs
    `out_channels`: adaptive average pool to 7x7, then the classifier (indices 0, 3, 6 are
    the Linear layers). Weights are initialised as torchvision does (Kaiming-normal convs,
    N(0, 0.01) Linear layers, zero biases)."""

    def __init__(self, features: nn.Sequential, out_channels: int, num_classes: int = 1000,
                 hidden: int = 4096, dropout: float = 0.5, init_weights: bool = True):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(out_channels * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = graphnet.flatten(x, 1)
        return self.classifier(x)


def vgg11(num_classes: int = 1000, width: int = 64, hidden: int = 4096,
          in_channels: int = 3) -> VGG:
    """VGG-11 in torchvision's layout (features.0/3/6/8/11/13/16/18 are the convs).
    Input [N, in_channels, H, W] with H, W >= 32 (224 is the standard size).
    `width=64, hidden=4096` is torchvision's size (133M parameters); `width=8, hidden=64`
    is a small version with the same parameter names."""
    layers, channels = [], in_channels
    for num_convs, multiple in VGG11_BLOCKS:
        layers.extend(vgg_block(num_convs, channels, width * multiple))
        channels = width * multiple
    return VGG(nn.Sequential(*layers), channels, num_classes=num_classes, hidden=hidden)
