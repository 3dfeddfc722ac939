"""A third CAPTCHA style new to the general reader: text embossed into textured paper.

Stencil (`ocrlab.synth.stencil`) and tiles (`ocrlab.synth.tiles`) stress a reader with dots and
grids a careful eye also misreads; this one is a scheme built to be read by people: one font
per image, turned a little, pressed into coloured paper. Text and paper share one colour, so
the glyphs show only as light and shadow along their edges, and one or two shallower curves are
pressed across them. No zoo family (`ocrlab.synth.zoo.FAMILIES`) draws text by its relief: every
zoo glyph is ink of its own colour. The alphabet is tiles' (no look-alike pairs, three symbols
outside the general charset). `relief(rng)` is an `f(rng) -> (image, text)` generator for
`ocrlab audit --generator`. NumPy and Pillow only.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from ocrlab.synth.effects import clutter, paper, warp
from ocrlab.synth.effects.glyphs import Layout, lay_out
from ocrlab.synth.fonts import load_font
from ocrlab.synth.tiles import CHARS, fonts

HEIGHT = 64
LAYOUT = Layout(rotate=10, scale=0.08, baseline=0.05, spacing=(0.95, 1.1))
MARGIN = 6
"""Rows and columns kept clear round the text: the sine ripple (`warp.sine`, 0.6) moves it by up
to 0.6 × 0.12 of the image's height, some 5 pixels on the 64 rows most images have."""


def emboss(height: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light and shadow (H, W) of a height map in [0, 1], lit from the upper left or the lower
    right: edges facing the light brighten, the others darken, and flat ground stays 0."""
    sigma = rng.uniform(0.8, 1.5)
    smooth = Image.fromarray(np.uint8(np.clip(height, 0, 1) * 255)).filter(
        ImageFilter.GaussianBlur(sigma)
    )
    gy, gx = np.gradient(np.asarray(smooth, np.float32) / 255)
    angle = rng.uniform(np.pi / 6, np.pi / 3) + (np.pi if rng.random() < 0.5 else 0.0)
    return -(gx * np.cos(angle) + gy * np.sin(angle)) * rng.uniform(300, 450)


def relief(rng: np.random.Generator) -> tuple[Image.Image, str]:
    """A random 5- or 6-character CAPTCHA of this style and its text."""
    pool = fonts()
    text = "".join(rng.choice(list(CHARS), size=int(rng.integers(5, 7))))
    font = load_font(pool[int(rng.integers(len(pool)))].path, int(rng.integers(34, 44)))
    ink = lay_out(text, font, rng, LAYOUT)
    ih, iw = ink.mask.shape
    h, w = max(HEIGHT, ih + 2 * MARGIN + 2), iw + int(rng.integers(16, 40))
    top = int(rng.integers(MARGIN + 1, h - ih - MARGIN))
    left = int(rng.integers(MARGIN, w - iw - MARGIN + 1))
    height = np.zeros((h, w), np.float32)
    height[top : top + ih, left : left + iw] = ink.mask
    curves = clutter.bezier(np.zeros((h, w, 3), np.float32), rng, np.full(3, 255.0),
                            int(rng.integers(1, 3)))[..., 0] / 255  # fmt: skip
    shade = emboss(np.maximum(height, 0.3 * curves), rng)  # curves pressed shallower than text
    colour = rng.uniform(120, 220, 3).astype(np.float32)
    img = paper.texture(rng, h, w, colour) + shade[..., None]
    img = warp.sine(img, rng, 0.6)
    img += rng.normal(0, 5, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)), text
