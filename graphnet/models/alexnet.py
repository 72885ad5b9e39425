"""AlexNet in torchvision's layout: `features` (convs and pools), `avgpool` (adaptive, to
6x6) and `classifier` (dropout and three Linear layers), with torchvision's indices, so a
torchvision `alexnet` state_dict (features.0.weight, features.3.weight, ...,
classifier.1.weight, classifier.4.weight, classifier.6.weight) loads with strict=True.

Input [N, 3, H, W] with H, W >= 63 (224 is the standard size; the adaptive pool makes any
size from 63 up give 256*6*6 features). `channels` and `hidden` shrink the widths for quick
tests without changing any parameter name.

>>> net = alexnet_small(num_classes=10)
>>> net(graphnet.randn(1, 3, 64, 64)).shape
graphnet.Size([1, 10])
"""

from __future__ import annotations

import graphnet
from graphnet import nn

# torchvision's widths: conv1..conv5 output channels, then the two hidden Linear layers
ALEXNET_CHANNELS = (64, 192, 384, 256, 256)


class AlexNet(nn.Module):
    """torchvision's AlexNet. Input [N, in_channels, H>=63, W>=63] -> logits [N, num_classes]."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5,
                 channels: tuple = ALEXNET_CHANNELS, hidden: int = 4096, in_channels: int = 3):
        super().__init__()
        c1, c2, c3, c4, c5 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=11, stride=4, padding=2),  # 0
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2),                      # 3
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),                      # 6
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1),                      # 8
            nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1),                      # 10
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(c5 * 6 * 6, hidden),                                    # 1
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),                                        # 4
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),                                   # 6
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = graphnet.flatten(x, 1)
        return self.classifier(x)


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """Full-size AlexNet (61M parameters at 1000 classes); input [N, 3, 224, 224]."""
    return AlexNet(num_classes=num_classes, dropout=dropout)


def alexnet_small(num_classes: int = 10, dropout: float = 0.5) -> AlexNet:
    """The same layers at 1/8 to 1/4 width (hidden 64) for tests and benchmarks on small
    images; input [N, 3, 64, 64] (any side >= 63)."""
    return AlexNet(num_classes=num_classes, dropout=dropout, channels=(16, 32, 48, 32, 32),
                   hidden=64)
