"""Render one word onto a canvas: placement, colour, background crop, Gaussian noise.

The canvas is one size for a whole dataset (and for the easy and hard sets alike), fitted by
`ocrlab.synth.fit`. A render whose ink would cross the canvas edge raises instead of clipping, so a
clipped word can never reach a training set.
Imports NumPy and Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import ImageFont

from ocrlab.errors import ConfigError

COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "navy": (28, 40, 120),
    "crimson": (160, 24, 32),
    "orange": (235, 135, 40),
    "khaki": (170, 150, 110),
}
"""Font colours, from high contrast to the hardest of "Breaking CAPTCHA": orange and khaki on brown
paper."""

MAX_PIXELS = 1 << 22
"""The largest canvas accepted (4 Mpx): beyond it a dataset of any useful size would not fit on
disk."""


@dataclass(frozen=True)
class Canvas:
    """Image size in pixels, shared by every sample of a dataset."""

    height: int
    width: int

    def __post_init__(self) -> None:
        if self.height < 8 or self.width < 8 or self.height * self.width > MAX_PIXELS:
            raise ConfigError(
                f"canvas {self.height}x{self.width} is out of range: each side must be at least 8 "
                f"and the area at most {MAX_PIXELS:,} pixels"
            )


@dataclass(frozen=True)
class Style:
    """How one sample looks; `jitter` places the word at random in the free space, else centred."""

    colour: tuple[int, int, int]
    noise: float
    jitter: bool


def render(
    text: str,
    font: ImageFont.FreeTypeFont,
    background: np.ndarray,
    style: Style,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw `text` on a copy of `background` (H, W, 3) uint8; returns (H, W, 3) uint8.

    Raises ValueError when the ink does not fit: the canvas was too small for this word and font.
    """
    h, w = background.shape[:2]
    mask_core, _ = font.getmask2(text, mode="L", anchor="ls")
    mw, mh = mask_core.size
    if mw > w or mh > h:
        raise ValueError(f"{text!r} ({mw}x{mh} px) does not fit the {w}x{h} canvas")
    free_x, free_y = w - mw, h - mh
    if style.jitter:  # keep a 2 px gap so no stroke ever touches the edge
        pad_x, pad_y = min(2, free_x // 2), min(2, free_y // 2)
        x0 = int(rng.integers(pad_x, free_x - pad_x + 1))
        y0 = int(rng.integers(pad_y, free_y - pad_y + 1))
    else:
        x0, y0 = free_x // 2, free_y // 2
    alpha = np.asarray(mask_core, dtype=np.uint8).reshape(mh, mw).astype(np.float32) / 255.0
    out = background.astype(np.float32)
    region = out[y0 : y0 + mh, x0 : x0 + mw]
    region += alpha[..., None] * (np.asarray(style.colour, np.float32) - region)
    if style.noise > 0:
        out += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(style.noise)
    return np.clip(out, 0, 255, out=out).astype(np.uint8)
