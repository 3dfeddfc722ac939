"""The letter reader's CNN: a small VGG-style network for 28×28 single-channel EMNIST letters.

Three stages of 3×3 convolutions with batch normalisation, each halving the resolution with a
strided 5×5 convolution instead of pooling (a learnable downsampling that scores better on MNIST
than max-pooling: Springenberg et al. 2015, "Striving for Simplicity"), dropout between stages, then
global average pooling and a linear head. About 0.8 M parameters at width 32, so it trains on a
laptop CPU. Only torch; no training loop here.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """Convolution ('same' padding) → batch norm → ReLU; the norm makes the bias redundant."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class LettersCNN(nn.Module):
    """Stages of width w, 2w, 4w channels at 28→14→7→4 pixels, then pooled features → logits."""

    def __init__(
        self, num_classes: int = 26, in_channels: int = 1, width: int = 32, dropout: float = 0.3
    ) -> None:
        super().__init__()
        if num_classes < 2 or in_channels < 1 or width < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError(
                "need num_classes ≥ 2, in_channels ≥ 1, width ≥ 1 and 0 ≤ dropout < 1, got "
                f"{num_classes}, {in_channels}, {width}, {dropout}"
            )
        stages: list[nn.Module] = []
        cin = in_channels
        for cout in (width, 2 * width, 4 * width):
            stages += [
                _conv(cin, cout),
                _conv(cout, cout),
                _conv(cout, cout, kernel=5, stride=2),
                nn.Dropout(dropout),
            ]
            cin = cout
        self.features = nn.Sequential(*stages)
        self.head = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, 28, 28) images scaled to [-1, 1] → (B, num_classes) logits (any H, W works)."""
        x = self.features(x)  # (B, 4w, H/8, W/8)
        return self.head(x.mean(dim=(2, 3)))  # (B, num_classes)


def letters_cnn(
    num_classes: int = 26, in_channels: int = 1, width: int = 32, dropout: float = 0.3
) -> LettersCNN:
    return LettersCNN(num_classes, in_channels, width, dropout)
