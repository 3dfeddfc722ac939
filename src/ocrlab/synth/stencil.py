"""A second CAPTCHA style built to be new to the general reader: stippled glyphs cut by curves.

Where `ocrlab.synth.tiles` is a stress test (inverted tiles and an inverting grid bring the text
down to a few pixels a stroke at the reader's 32 rows), this one is a typical web scheme: one
font per image, turned and squeezed glyphs drawn as a dot screen, one or two curves in the
paper's colour cutting through them, and specks of ink on textured paper. No zoo family
(`ocrlab.synth.zoo.FAMILIES`) draws stippled glyphs or erasing curves. The alphabet is tiles'
(no look-alike pairs, three symbols outside the general charset). `stencil(rng)` is an
`f(rng) -> (image, text)` generator for `ocrlab audit --generator`; `solid_stencil` is the same
scheme with solid glyphs, which measures what the dot screen alone costs a reader. NumPy and
Pillow only.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ocrlab.synth.effects import clutter, paper, warp
from ocrlab.synth.effects.glyphs import Layout, lay_out
from ocrlab.synth.effects.ink import composite, solid
from ocrlab.synth.fonts import load_font
from ocrlab.synth.tiles import CHARS, fonts

HEIGHT = 64
LAYOUT = Layout(rotate=15, scale=0.1, baseline=0.06, spacing=(0.95, 1.1))


def _screen(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A dot screen (h, w) in [0, 1]: round dots on a square lattice of 3 or 4 pixels."""
    period = int(rng.integers(3, 5))
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    oy, ox = rng.uniform(0, period, 2)
    d = np.hypot((y + oy) % period - period / 2, (x + ox) % period - period / 2)
    return np.clip(period * 0.55 - d, 0, 1)


def stencil(rng: np.random.Generator, screen: bool = True) -> tuple[Image.Image, str]:
    """A random 5- or 6-character CAPTCHA of this style and its text (`screen=False`: solid
    glyphs, every other draw the same)."""
    pool = fonts()
    text = "".join(rng.choice(list(CHARS), size=int(rng.integers(5, 7))))
    font = load_font(pool[int(rng.integers(len(pool)))].path, int(rng.integers(34, 44)))
    ink = lay_out(text, font, rng, LAYOUT)
    ih, iw = ink.mask.shape
    h, w = max(HEIGHT, ih + 8), iw + int(rng.integers(16, 40))
    top, left = int(rng.integers(2, h - ih - 1)), int(rng.integers(4, w - iw - 3))
    alpha = np.zeros((h, w), np.float32)
    dots = _screen(ih, iw, rng)  # drawn either way, so both variants make the same later draws
    alpha[top : top + ih, left : left + iw] = ink.mask * (dots if screen else 1.0)
    light = rng.uniform(200, 245, 3).astype(np.float32)
    colour = rng.uniform(0, 90, 3).astype(np.float32)
    img = composite(paper.texture(rng, h, w, light), alpha, solid(alpha, colour))
    img = clutter.bezier(img, rng, light, int(rng.integers(1, 3)))
    img = clutter.dots(img, rng, colour, int(rng.integers(8, 20)))
    img = warp.sine(img, rng, 0.6)
    img += rng.normal(0, 6, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)), text


def solid_stencil(rng: np.random.Generator) -> tuple[Image.Image, str]:
    """`stencil` without the dot screen: the same text, font, layout, curves and specks."""
    return stencil(rng, screen=False)
