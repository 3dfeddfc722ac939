"""Printed letters for training the letter models: the TRAINING fonts, colours and backgrounds only.

EMNIST is handwriting; a letter model that must also read digital letters (the "Application"
of "Letter Recognition") does better with printed ones beside it. This module draws them: one letter
on a small canvas in one of `DEFAULT_FONTS`, an ink colour of `render.COLOURS` and a background of
`backgrounds.TEXTURES`, the same resources the word datasets use, so the letters-eval set
(`letters_eval.py`: other fonts, colours, backgrounds) stays held out. Upper case, and lower case
except 'l' (in most faces the same stroke as 'I', which is another class). Sample *i* draws from
`make_rng(seed, SAMPLES, i)`. Imports NumPy, Pillow and `ocrlab.synth` only.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocrlab.rng import SAMPLES, make_rng
from ocrlab.synth.backgrounds import TEXTURES
from ocrlab.synth.fonts import default_fonts, load_font
from ocrlab.synth.render import COLOURS

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER_FRACTION = 0.4
"""Share of printed letters drawn in lower case."""


def draw_ink(text: str, font: ImageFont.FreeTypeFont, tracking: float = 0.0) -> np.ndarray:
    """The ink of `text` ('\\n' between lines) as float32 alpha in [0, 1], cropped to the ink.

    Letters are placed one by one, `tracking` pixels apart beyond their advance (so a test can
    make them touch or not); lines are 1.5 font sizes apart."""
    size = int(font.size)
    lines = text.split("\n")
    width = max(int(sum(font.getlength(c) + tracking for c in line)) for line in lines) + 4 * size
    canvas = Image.new("L", (width, int(size * (1.5 * len(lines) + 2))), 0)
    draw = ImageDraw.Draw(canvas)
    for n, line in enumerate(lines):
        x, baseline = float(size), size * (1.5 + 1.5 * n)
        for c in line:
            draw.text((x, baseline), c, font=font, fill=255, anchor="ls")
            x += font.getlength(c) + tracking
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"the font {font.getname()} draws nothing for {text!r}")
    return np.asarray(canvas.crop(box), dtype=np.float32) / 255.0


def compose(
    alpha: np.ndarray, ink: tuple[int, int, int], background: np.ndarray, top: int, left: int
) -> np.ndarray:
    """Paint `ink` through `alpha` onto a copy of `background` (H, W, 3) at (top, left); float32."""
    image = background.astype(np.float32)
    region = image[top : top + alpha.shape[0], left : left + alpha.shape[1]]
    region += alpha[..., None] * (np.asarray(ink, np.float32) - region)
    return image


def printed_letter(seed: int, i: int) -> tuple[np.ndarray, int, tuple[int, int, int, int]]:
    """Printed training letter `i`: an (H, W, 3) uint8 image, its class (0..25, A..Z) and where
    its ink is, (top, left, bottom, right).

    Letter `i % 26`, in a random training font, size (24–96 px), case, colour and background,
    with margins of 0.2–1 font sizes and Gaussian noise up to sigma 6.
    """
    rng = make_rng(seed, SAMPLES, i)
    label = i % 26
    letter = ALPHABET[label]
    if letter != "L" and rng.random() < LOWER_FRACTION:
        letter = letter.lower()
    fonts = default_fonts()
    font = load_font(fonts[int(rng.integers(len(fonts)))].path, int(rng.integers(24, 97)))
    alpha = draw_ink(letter, font)
    size = int(font.size)
    top, bottom, left, right = (int(m) for m in rng.uniform(0.2, 1.0, size=4) * size)
    h, w = alpha.shape[0] + top + bottom, alpha.shape[1] + left + right
    texture = sorted(TEXTURES)[int(rng.integers(len(TEXTURES)))]
    colour = sorted(COLOURS)[int(rng.integers(len(COLOURS)))]
    image = compose(alpha, COLOURS[colour], TEXTURES[texture](rng, h, w), top, left)
    image += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(rng.uniform(0, 6))
    box = (top, left, top + alpha.shape[0], left + alpha.shape[1])
    return np.clip(image, 0, 255).astype(np.uint8), label, box
