"""The zoo's batch-norm networks (torchvision's ResNet-18, d2l's Residual ResNet and DenseNet)
and the recurrent language model, written by hand in PyTorch with torchvision's / d2l's
module names. tests/test_models.py copies their weights into `graphnet.models`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet18(nn.Module):
    """torchvision.models.resnet18, base width configurable."""

    def __init__(self, num_classes=1000, width=64):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(width, 1)
        self.layer2 = self._make_layer(width * 2, 2)
        self.layer3 = self._make_layer(width * 4, 2)
        self.layer4 = self._make_layer(width * 8, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8, num_classes)

    def _make_layer(self, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes))
        first = BasicBlock(self.inplanes, planes, stride, downsample)
        self.inplanes = planes
        return nn.Sequential(first, BasicBlock(planes, planes))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Residual(nn.Module):
    def __init__(self, in_channels, out_channels, use_1x1conv=False, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, 1, stride=stride) if use_1x1conv \
            else None
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, X):
        Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
        if self.conv3:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_block(in_channels, out_channels, num_residuals, first_block=False):
    return nn.Sequential(*[
        Residual(in_channels, out_channels, use_1x1conv=True, stride=2)
        if i == 0 and not first_block else Residual(out_channels, out_channels)
        for i in range(num_residuals)])


def resnet_d2l(num_classes=10, in_channels=1, width=64):
    net = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3), nn.BatchNorm2d(width),
                        nn.ReLU(), nn.MaxPool2d(3, 2, 1))
    net.add_module("resnet_block1", resnet_block(width, width, 2, first_block=True))
    net.add_module("resnet_block2", resnet_block(width, width * 2, 2))
    net.add_module("resnet_block3", resnet_block(width * 2, width * 4, 2))
    net.add_module("resnet_block4", resnet_block(width * 4, width * 8, 2))
    net.add_module("global_avg_pool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("fc", nn.Sequential(nn.Flatten(), nn.Linear(width * 8, num_classes)))
    return net


def conv_block(cin, cout):
    return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, cout, 3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, in_channels, out_channels):
        super().__init__()
        self.net = nn.ModuleList([conv_block(in_channels + i * out_channels, out_channels)
                                  for i in range(num_convs)])
        self.out_channels = in_channels + num_convs * out_channels

    def forward(self, X):
        for blk in self.net:
            X = torch.cat((X, blk(X)), dim=1)
        return X


def densenet(num_classes=10, in_channels=1, num_channels=64, growth_rate=32,
             blocks=(4, 4, 4, 4)):
    net = nn.Sequential(nn.Conv2d(in_channels, num_channels, 7, 2, 3),
                        nn.BatchNorm2d(num_channels), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
    for i, num_convs in enumerate(blocks):
        block = DenseBlock(num_convs, num_channels, growth_rate)
        net.add_module(f"DenseBlock_{i}", block)
        num_channels = block.out_channels
        if i != len(blocks) - 1:
            net.add_module(f"transition_block_{i}", nn.Sequential(
                nn.BatchNorm2d(num_channels), nn.ReLU(),
                nn.Conv2d(num_channels, num_channels // 2, 1), nn.AvgPool2d(2, 2)))
            num_channels //= 2
    net.add_module("BN", nn.BatchNorm2d(num_channels))
    net.add_module("relu", nn.ReLU())
    net.add_module("global_avg_pool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("fc", nn.Sequential(nn.Flatten(), nn.Linear(num_channels, num_classes)))
    return net


class RNNLanguageModel(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="lstm"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell](
            embed_size, hidden_size, num_layers=num_layers)
        self.dense = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        output, state = self.rnn(self.embedding(tokens), state)
        return self.dense(output), state


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial BN affine parameters and running statistics, so eval mode (and the
    compiler's BN folding) is tested on more than the identity."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(1 + 0.2 * torch.randn(n, generator=gen))
                m.bias.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_mean.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
                m.num_batches_tracked.fill_(3)
