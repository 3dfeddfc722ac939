"""CRNN: a CNN that turns a text line into a sequence of column features, a BiLSTM that reads
them in context, and a per-column classifier trained with CTC (Shi et al. 2015).

Chosen for the general reader because it reads a line in one pass (no token-by-token decoding
loop), so it is several times faster on a CPU than the encoder-decoder, exports to ONNX as one
graph of any width, and CTC needs no attention to learn where characters are. Input (B, 1, 32, W);
output (B, W/4, V) logits, one column per 4 input pixels, class 0 (`<pad>`) the CTC blank.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class CRNN(nn.Module):
    """(B, 1, 32, W) grey lines in [-1, 1] → (B, W/4, V) column logits."""

    def __init__(
        self, vocab_size: int, channels: tuple[int, ...] = (32, 64, 128, 192), hidden: int = 128
    ) -> None:
        super().__init__()
        c1, c2, c3, c4 = channels
        self.vocab_size = vocab_size
        self.config = {"vocab_size": vocab_size, "channels": list(channels), "hidden": hidden}
        """The keyword arguments of `crnn` that rebuild this model."""
        self.cnn = nn.Sequential(
            *_conv(1, c1), nn.MaxPool2d(2, 2),  # 16 x W/2
            *_conv(c1, c2), nn.MaxPool2d(2, 2),  # 8 x W/4
            *_conv(c2, c3), *_conv(c3, c3), nn.MaxPool2d((2, 1), (2, 1)),  # 4 x W/4
            *_conv(c3, c4), *_conv(c4, c4), nn.MaxPool2d((2, 1), (2, 1)),  # 2 x W/4
            nn.Conv2d(c4, c4, (2, 1), bias=False), nn.BatchNorm2d(c4), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.rnn = nn.LSTM(c4, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.read_columns(self.cnn(x))

    def read_columns(self, f: torch.Tensor) -> torch.Tensor:
        """(B, C, 1, W/4) CNN features → (B, W/4, V) logits: the part fine-tuning trains first,
        with the CNN frozen."""
        f = f.squeeze(2).transpose(1, 2)  # (B, W/4, C)
        f, _ = self.rnn(f)  # (B, W/4, 2·hidden)
        return self.head(f)  # (B, W/4, V)


def line_input(lines: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) uint8 lines (`ocrlab.runtime.line.to_line`) → float32 in [-1, 1]."""
    return lines.float().div_(127.5).sub_(1.0)


def crnn(vocab_size: int, channels: list[int] | None = None, hidden: int = 128) -> CRNN:
    return CRNN(vocab_size, tuple(channels or (32, 64, 128, 192)), hidden)
