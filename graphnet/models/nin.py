"""Network in Network (the seed's `nin_block` and net): each block is a conv followed by two
1x1 convs, all with ReLU; the last block has one channel per class and a global average
pool replaces the fully connected head.

>>> net = nin(num_classes=10, image_size=96)
>>> net(graphnet.randn(2, 1, 96, 96)).shape
graphnet.Size([2, 10])
"""

from __future__ import annotations

from graphnet import nn


def nin_block(in_channels: int, out_channels: int, kernel_size, stride, padding) -> nn.Sequential:
    """conv(kernel_size, stride, padding) -> ReLU -> 1x1 conv -> ReLU -> 1x1 conv -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )


def _final_side(image_size: int) -> int:
    """Height/width reaching the global pool: conv 11/4, then three 3/2 max pools."""
    side = (image_size - 11) // 4 + 1
    for _ in range(3):
        side = (side - 3) // 2 + 1
    if side < 1:
        raise ValueError(f"nin needs images of at least 67x67 (an 11x11/4 conv and three 3x3/2 "
                         f"pools); got image_size={image_size}")
    return side


def nin(num_classes: int = 10, in_channels: int = 1, image_size: int = 224) -> nn.Sequential:
    """The seed's NiN. Input [N, in_channels, image_size, image_size] -> [N, num_classes].
    At the seed's 224 the final map is 5x5, so the last pool is the seed's AvgPool2d(5); other
    sizes (>= 67, e.g. 96) get the AvgPool2d that covers their final map."""
    return nn.Sequential(
        nin_block(in_channels, 96, kernel_size=11, stride=4, padding=0),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nin_block(96, 256, kernel_size=5, stride=1, padding=2),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nin_block(256, 384, kernel_size=3, stride=1, padding=1),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Dropout(0.5),
        nin_block(384, num_classes, kernel_size=3, stride=1, padding=1),
        nn.AvgPool2d(kernel_size=_final_side(image_size)),
        nn.Flatten(),
    )
