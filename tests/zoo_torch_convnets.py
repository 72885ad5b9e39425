"""The zoo's plain convnets (LeNet, AlexNet, VGG, NiN, GoogLeNet) written by hand in PyTorch
(torchvision is not a dependency), with torchvision's module names where torchvision has the
model, d2l's otherwise. tests/test_models.py copies their weights into `graphnet.models`."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


def _lenet_flat(image_size):
    side = ((image_size - 4) // 2 - 4) // 2
    return 16 * side * side


class LeNet(nn.Module):
    def __init__(self, classes=2, in_channels=3, image_size=32):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(_lenet_flat(image_size), 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.conv1(x)), 2)
        out = F.max_pool2d(F.relu(self.conv2(out)), 2)
        out = out.view(out.size(0), -1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(out)))))


class LeNetSequential(nn.Module):
    def __init__(self, classes=2, in_channels=3, image_size=32):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(nn.Linear(_lenet_flat(image_size), 120), nn.ReLU(),
                                        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class LeNetSequentialOrderDict(LeNetSequential):
    def __init__(self, classes=2, in_channels=3, image_size=32):
        super().__init__()
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(in_channels, 6, 5), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2, 2),
            conv2=nn.Conv2d(6, 16, 5), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2, 2)))
        self.classifier = nn.Sequential(OrderedDict(
            fc1=nn.Linear(_lenet_flat(image_size), 120), relu3=nn.ReLU(),
            fc2=nn.Linear(120, 84), relu4=nn.ReLU(), fc3=nn.Linear(84, classes)))


class LeNetD2L(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2),
                                  nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2))
        self.fc = nn.Sequential(nn.Linear(256, 120), nn.Sigmoid(), nn.Linear(120, 84),
                                nn.Sigmoid(), nn.Linear(84, 10))

    def forward(self, img):
        return self.fc(self.conv(img).view(img.shape[0], -1))


class AlexNet(nn.Module):
    """torchvision.models.AlexNet, widths configurable."""

    def __init__(self, num_classes=1000, channels=(64, 192, 384, 256, 256), hidden=4096):
        super().__init__()
        c1, c2, c3, c4, c5 = channels
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(c5 * 36, hidden), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def vgg_block(num_convs, in_channels, out_channels):
    blk = []
    for i in range(num_convs):
        blk += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                nn.ReLU()]
    return nn.Sequential(*blk, nn.MaxPool2d(2, 2))


def vgg(conv_arch, fc_features, fc_hidden_units, num_classes=10):
    net = nn.Sequential()
    for i, (n, cin, cout) in enumerate(conv_arch):
        net.add_module(f"vgg_block_{i + 1}", vgg_block(n, cin, cout))
    net.add_module("fc", nn.Sequential(
        nn.Flatten(), nn.Linear(fc_features, fc_hidden_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_hidden_units, fc_hidden_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_hidden_units, num_classes)))
    return net


class VGG11(nn.Module):
    """torchvision.models.vgg11 (cfg "A", no batch norm), widths configurable."""

    def __init__(self, num_classes=1000, width=64, hidden=4096):
        super().__init__()
        layers, cin = [], 3
        for v in (1, "M", 2, "M", 4, 4, "M", 8, 8, "M", 8, 8, "M"):
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, width * v, kernel_size=3, padding=1),
                           nn.ReLU(inplace=True)]
                cin = width * v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(cin * 49, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def nin_block(cin, cout, kernel_size, stride, padding):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding), nn.ReLU(),
                         nn.Conv2d(cout, cout, 1), nn.ReLU(), nn.Conv2d(cout, cout, 1), nn.ReLU())


def nin(num_classes, in_channels, final_side):
    return nn.Sequential(
        nin_block(in_channels, 96, 11, 4, 0), nn.MaxPool2d(3, 2),
        nin_block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
        nin_block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2), nn.Dropout(0.5),
        nin_block(384, num_classes, 3, 1, 1), nn.AvgPool2d(final_side), nn.Flatten())


class Inception(nn.Module):
    def __init__(self, in_c, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_c, c1, 1)
        self.p2_1, self.p2_2 = nn.Conv2d(in_c, c2[0], 1), nn.Conv2d(c2[0], c2[1], 3, padding=1)
        self.p3_1, self.p3_2 = nn.Conv2d(in_c, c3[0], 1), nn.Conv2d(c3[0], c3[1], 5, padding=2)
        self.p4_1, self.p4_2 = nn.MaxPool2d(3, 1, 1), nn.Conv2d(in_c, c4, 1)

    def forward(self, x):
        return torch.cat((F.relu(self.p1_1(x)), F.relu(self.p2_2(F.relu(self.p2_1(x)))),
                          F.relu(self.p3_2(F.relu(self.p3_1(x)))),
                          F.relu(self.p4_2(self.p4_1(x)))), dim=1)


def googlenet(num_classes=10, in_channels=1):
    pool = lambda: nn.MaxPool2d(3, 2, 1)
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(in_channels, 64, 7, 2, 3), nn.ReLU(), pool()),
        nn.Sequential(nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, 192, 3, padding=1),
                      nn.ReLU(), pool()),
        nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32),
                      Inception(256, 128, (128, 192), (32, 96), 64), pool()),
        nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64),
                      Inception(512, 160, (112, 224), (24, 64), 64),
                      Inception(512, 128, (128, 256), (24, 64), 64),
                      Inception(512, 112, (144, 288), (32, 64), 64),
                      Inception(528, 256, (160, 320), (32, 128), 128), pool()),
        nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128),
                      Inception(832, 384, (192, 384), (48, 128), 128), nn.AdaptiveAvgPool2d(1)),
        nn.Flatten(), nn.Linear(1024, num_classes))
