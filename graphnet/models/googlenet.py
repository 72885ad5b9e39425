"""GoogLeNet as in the seed (d2l style): the `Inception` block's four parallel paths
concatenated on channels, stacked in five stages `b1..b5` and a Linear head.

>>> net = googlenet(num_classes=10)
>>> net(graphnet.randn(1, 1, 96, 96)).shape
graphnet.Size([1, 10])
"""

from __future__ import annotations

import graphnet
import graphnet.nn.functional as F
from graphnet import nn


class Inception(nn.Module):
    """Four paths over the same input, concatenated on channels (c1 + c2[1] + c3[1] + c4
    output channels): 1x1 conv; 1x1 then 3x3 conv; 1x1 then 5x5 conv; 3x3 max pool then
    1x1 conv. Height and width are kept."""

    def __init__(self, in_c: int, c1: int, c2: tuple, c3: tuple, c4: int):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_c, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_c, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_c, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_c, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return graphnet.cat((p1, p2, p3, p4), dim=1)


def googlenet(num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """d2l's GoogLeNet (nine Inception blocks, 1024 features before the head).
    Input [N, in_channels, H, W] with H, W >= 32 (the seed uses 96x96) -> [N, num_classes];
    each of b1..b4 halves the side twice or once, b5 pools globally."""
    b1 = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),
                       nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=1), nn.ReLU(),
                       nn.Conv2d(64, 192, kernel_size=3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b3 = nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32),
                       Inception(256, 128, (128, 192), (32, 96), 64),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b4 = nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64),
                       Inception(512, 160, (112, 224), (24, 64), 64),
                       Inception(512, 128, (128, 256), (24, 64), 64),
                       Inception(512, 112, (144, 288), (32, 64), 64),
                       Inception(528, 256, (160, 320), (32, 128), 128),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b5 = nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128),
                       Inception(832, 384, (192, 384), (48, 128), 128),
                       nn.AdaptiveAvgPool2d((1, 1)))
    return nn.Sequential(b1, b2, b3, b4, b5, nn.Flatten(), nn.Linear(1024, num_classes))
