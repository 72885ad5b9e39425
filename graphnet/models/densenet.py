"""DenseNet as in the seed (d2l style): `DenseBlock`s whose convs each see the
concatenation of the block input and every earlier conv's output, joined by
`transition_block`s that halve channels and side.

>>> net = densenet(num_classes=10)
>>> net(graphnet.randn(2, 1, 96, 96)).shape
graphnet.Size([2, 10])
"""

from __future__ import annotations

import graphnet
from graphnet import nn


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN -> ReLU -> 3x3 conv (padding 1): DenseNet's pre-activation conv."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    """`num_convs` conv_blocks; each one's output (`out_channels`, the growth rate) is
    concatenated onto its input on channels, so the block outputs
    `in_channels + num_convs * out_channels` channels (`self.out_channels`)."""

    def __init__(self, num_convs: int, in_channels: int, out_channels: int):
        super().__init__()
        self.net = nn.ModuleList([conv_block(in_channels + i * out_channels, out_channels)
                                  for i in range(num_convs)])
        self.out_channels = in_channels + num_convs * out_channels

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = graphnet.cat((X, Y), dim=1)
        return X


def transition_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN -> ReLU -> 1x1 conv -> 2x2 average pool: fewer channels, half the side."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, kernel_size=1),
                         nn.AvgPool2d(kernel_size=2, stride=2))


def densenet(num_classes: int = 10, in_channels: int = 1, num_channels: int = 64,
             growth_rate: int = 32, num_convs_in_dense_blocks=(4, 4, 4, 4)) -> nn.Sequential:
    """d2l's DenseNet. Input [N, in_channels, H, W] with H, W >= 32 (the seed uses 96x96) ->
    [N, num_classes]. Smaller `num_channels`/`growth_rate` keep the structure for tests."""
    net = nn.Sequential(
        nn.Conv2d(in_channels, num_channels, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(num_channels), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    for i, num_convs in enumerate(num_convs_in_dense_blocks):
        block = DenseBlock(num_convs, num_channels, growth_rate)
        net.add_module("DenseBlock_%d" % i, block)
        num_channels = block.out_channels
        if i != len(num_convs_in_dense_blocks) - 1:
            net.add_module("transition_block_%d" % i,
                           transition_block(num_channels, num_channels // 2))
            num_channels = num_channels // 2
    net.add_module("BN", nn.BatchNorm2d(num_channels))
    net.add_module("relu", nn.ReLU())
    net.add_module("global_avg_pool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("fc", nn.Sequential(nn.Flatten(), nn.Linear(num_channels, num_classes)))
    return net
