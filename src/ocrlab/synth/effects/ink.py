"""Colour the text mask: solid, per-glyph or gradient ink, hollow outlines and drop shadows.

Every function returns (alpha, colour): the (H, W) coverage to blend with and the (H, W, 3) ink
colour, so effects chain without knowing what lies behind.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter


def solid(mask: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """(H, W, 3) ink of one colour."""
    return np.broadcast_to(colour.astype(np.float32), (*mask.shape, 3)).copy()


def per_glyph(
    mask: np.ndarray, spans: list[tuple[int, int]], colours: list[np.ndarray]
) -> np.ndarray:
    """Each glyph's columns in its own colour (later glyphs win where they overlap)."""
    out = solid(mask, colours[0])
    for (a, b), colour in zip(spans, colours, strict=False):
        out[:, a:b] = colour
    return out


def hollow(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Outline only: the mask minus its erosion, one to two pixels of stroke."""
    size = 3 if min(mask.shape) < 40 or rng.random() < 0.5 else 5
    im = Image.fromarray((mask * 255).astype(np.uint8))
    eroded = np.asarray(im.filter(ImageFilter.MinFilter(size)), np.float32) / 255.0
    return np.clip(mask - eroded, 0, 1)


def shadow(
    alpha: np.ndarray, rng: np.random.Generator, bg: np.ndarray, ink: np.ndarray
) -> np.ndarray:
    """Composite a darker or lighter copy of the text, offset by a few pixels, under it."""
    dy, dx = (int(v) for v in rng.integers(1, max(2, alpha.shape[0] // 12) + 1, 2))
    moved = np.zeros_like(alpha)
    moved[dy:, dx:] = alpha[: alpha.shape[0] - dy, : alpha.shape[1] - dx]
    tone = np.clip(ink.mean() + rng.choice([-1, 1]) * 90, 0, 255)
    a = moved[..., None] * rng.uniform(0.5, 1.0)
    return bg * (1 - a) + tone * a


def composite(bg: np.ndarray, alpha: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Alpha-blend ink over the background: (H, W, 3) float32."""
    a = alpha[..., None]
    return bg * (1 - a) + ink * a
