"""A CAPTCHA style built to be new to the general reader: the fine-tuning benchmark's target.

Each glyph sits on its own tile, in its own font, and a coin flips whether the tile is dark ink on
light or light on dark; a strong sine ripple then bends the row, and a grid whose lines invert
whatever they cross is laid over it. No zoo family (`ocrlab.synth.zoo.FAMILIES`) has per-glyph
inverted tiles or inverting lines, and three of the characters (`#`, `&`, `@`) are outside the
general reader's charset, so fine-tuning must also grow its output layer. Like real schemes the
alphabet leaves out pairs a person cannot tell apart (0/O, 1/I/l, c/C, o/O, s/S ...), so a perfect
reader is possible. `tiles(rng)` is also the example of the `f(rng) -> (image, text)` generator
that `ocrlab audit --generator` takes. NumPy and Pillow only.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image, ImageDraw

from ocrlab.synth.effects import warp
from ocrlab.synth.fonts import FontSpec, font_pool, load_font

CHARS = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabdefghjmnqrt#&@"
"""Digits, both cases and three symbols, without look-alike pairs (see the module doc)."""
HEIGHT, SIZE = 64, 40


@cache
def fonts() -> tuple[FontSpec, ...]:
    """The bundled fonts that draw every character: the same on any machine with ocrlab."""
    return tuple(font_pool(("bundled",), "train", CHARS))


def _tile(ch: str, font: FontSpec, rng: np.random.Generator) -> np.ndarray:
    """One glyph, turned a little, on its own tile; dark on light or light on dark."""
    face = load_font(font.path, SIZE)
    left, _, right, _ = face.getbbox(ch)
    width = int(right - left) + int(rng.integers(6, 14))
    paper, ink = (235, 30) if rng.random() < 0.5 else (30, 235)
    paper += int(rng.integers(-20, 20))
    ink += int(rng.integers(-20, 20))
    tile = Image.new("L", (width, HEIGHT), paper)
    y = (HEIGHT - SIZE) // 2 + int(rng.integers(-4, 5))
    ImageDraw.Draw(tile).text(((width - (right - left)) // 2 - left, y), ch, font=face, fill=ink)
    tile = tile.rotate(float(rng.uniform(-12, 12)), Image.Resampling.BILINEAR, fillcolor=paper)
    return np.asarray(tile)


def tiles(rng: np.random.Generator) -> tuple[Image.Image, str]:
    """A random 5- or 6-character CAPTCHA of this style and its text."""
    pool = fonts()
    text = "".join(rng.choice(list(CHARS), size=int(rng.integers(5, 7))))
    row = np.concatenate(
        [_tile(ch, pool[int(rng.integers(len(pool)))], rng) for ch in text], axis=1
    )
    img = np.pad(row, ((10, 10), (8, 8)), constant_values=128).astype(np.float32)[..., None]
    img = warp.sine(img, rng, 1.5)[..., 0]
    h, w = img.shape
    grid = np.zeros((h, w), bool)
    step = int(rng.integers(11, 17))
    grid[int(rng.integers(step)) :: step, :] = True
    grid[:, int(rng.integers(step)) :: step] = True
    img = np.where(grid, 255 - img, img)
    img += rng.normal(0, 8, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)), text
