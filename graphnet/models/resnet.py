"""ResNet: `resnet18` with torchvision's exact module names (conv1, bn1, relu, maxpool,
layer1..layer4 of `BasicBlock`s with conv1/bn1/conv2/bn2/downsample.0/downsample.1,
avgpool, fc), so a torchvision resnet18 state_dict loads with strict=True; and the seed's
`Residual` block with d2l's `resnet_block` stages.

>>> net = resnet18(num_classes=10)
>>> net.eval()(graphnet.randn(1, 3, 64, 64)).shape
graphnet.Size([1, 10])
"""

from __future__ import annotations

import graphnet
import graphnet.nn.functional as F
from graphnet import nn


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv+BN with a skip connection; `downsample` (1x1 conv + BN) matches the
    skip's shape when the block changes stride or width."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        # NOTE: torchvision writes `out += identity`; a new tensor computes the same value
        # and keeps autograd free of in-place bookkeeping.
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision's ResNet over BasicBlocks. Input [N, 3, H, W] with H, W >= 32 (224 is the
    standard size; the adaptive pool makes any size give 8*width features)."""

    def __init__(self, layers=(2, 2, 2, 2), num_classes: int = 1000, width: int = 64,
                 in_channels: int = 3):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride),
                                       nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = graphnet.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet18(num_classes: int = 1000, width: int = 64, in_channels: int = 3) -> ResNet:
    """ResNet-18 (11.7M parameters at width 64 and 1000 classes). Input [N, 3, 224, 224]
    normally; 32x32 and 64x64 work (the last stage is then 1x1 or 2x2). A smaller `width`
    keeps every parameter name and shrinks each tensor, for quick tests."""
    return ResNet((2, 2, 2, 2), num_classes=num_classes, width=width, in_channels=in_channels)


# ---- the seed's Residual block (d2l) -------------------------------------------------------
class Residual(nn.Module):
    """Two 3x3 convs with BN; the input is added before the last ReLU, through a 1x1 conv
    (`conv3`) when `use_1x1conv` (needed when channels or stride change)."""

    def __init__(self, in_channels: int, out_channels: int, use_1x1conv: bool = False,
                 stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1,
                               stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.conv3 = (nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
                      if use_1x1conv else None)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_block(in_channels: int, out_channels: int, num_residuals: int,
                 first_block: bool = False) -> nn.Sequential:
    """A stage of `num_residuals` Residual blocks; all but the first stage halve height and
    width and change channels in their first block."""
    if first_block and in_channels != out_channels:
        raise ValueError(f"resnet_block: the first stage keeps channels, got in_channels="
                         f"{in_channels} != out_channels={out_channels}")
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(in_channels, out_channels, use_1x1conv=True, stride=2))
        else:
            blk.append(Residual(out_channels, out_channels))
    return nn.Sequential(*blk)


def resnet_d2l(num_classes: int = 10, in_channels: int = 1, width: int = 64) -> nn.Sequential:
    """d2l's ResNet-18 from Residual blocks. Input [N, in_channels, H, W], H, W >= 32 (d2l
    uses 1x96x96) -> [N, num_classes]."""
    net = nn.Sequential(nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3),
                        nn.BatchNorm2d(width), nn.ReLU(),
                        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    net.add_module("resnet_block1", resnet_block(width, width, 2, first_block=True))
    net.add_module("resnet_block2", resnet_block(width, width * 2, 2))
    net.add_module("resnet_block3", resnet_block(width * 2, width * 4, 2))
    net.add_module("resnet_block4", resnet_block(width * 4, width * 8, 2))
    net.add_module("global_avg_pool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("fc", nn.Sequential(nn.Flatten(), nn.Linear(width * 8, num_classes)))
    return net
