"""CAPTCHA effects: small composable functions, each drawing on a seeded `numpy.random.Generator`.

A sample is built in layers, one module each: `glyphs` lays the text out as an ink mask (per-glyph
rotation, scale, baseline and overlap), `paper` makes what lies behind it (plain, gradients, grids,
hatching, textures, colour panels), `ink` colours the mask (per-glyph colours, outlines, shadows),
`clutter` draws over it (lines, arcs, Bézier curves, dots, speckle, salt and pepper), `warp` bends
the whole image (sine, elastic, perspective, rotation, squeezing) and `camera` degrades it (blur,
noise, JPEG, low contrast). `ocrlab.synth.zoo` mixes them into named families. They are written
here from the effects' descriptions, never from another CAPTCHA library's code or output: those
are test material only. Imports NumPy and Pillow only.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_image(img: np.ndarray) -> Image.Image:
    """A layer's float pixels as an 8-bit Pillow image, for the effects Pillow draws or
    resamples."""
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
