"""ResNet18 (He et al. 2016, "Deep Residual Learning for Image Recognition"), standard topology.

Written with torch.nn alone (no torchvision): a 7×7 stride-2 stem and max-pool, four stages of two
BasicBlocks (64, 128, 256, 512 channels, stride 2 from the second stage), global average pooling,
dropout, and a linear head sized to the classes. Any input size works: pooling is adaptive.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (1×1 projection when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet18 classifier; `width` scales every stage (64 is the standard network)."""

    def __init__(
        self, num_classes: int, in_channels: int = 3, width: int = 64, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 7, 2, 3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        stages, cin = [], width
        for k, cout in enumerate((width, 2 * width, 4 * width, 8 * width)):
            stride = 1 if k == 0 else 2
            stages += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(cin, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for block in self.stages:  # each block starts as the identity (Goyal et al. 2017)
            assert isinstance(block, BasicBlock)
            nn.init.zeros_(block.bn2.weight)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) images → (B, 8·width) pooled features."""
        x = self.stages(self.stem(x))  # (B, 8w, H/32, W/32)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) normalised images → (B, num_classes) logits."""
        return self.head(self.features(x))


def resnet18(
    num_classes: int, in_channels: int = 3, width: int = 64, dropout: float = 0.2
) -> ResNet18:
    return ResNet18(num_classes, in_channels, width, dropout)
