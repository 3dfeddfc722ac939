"""Contact sheets: a grid of images with their captions, to see a dataset at a glance.

Pillow only, so the generator can write `preview.png` without matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ocrlab.synth.fonts import default_fonts, load_font

CAPTION_PX = 18


def contact_sheet(
    images: Sequence[np.ndarray],
    captions: Sequence[str],
    columns: int = 4,
    max_tile_width: int = 320,
) -> Image.Image:
    """Tile (H, W, 3) uint8 images in a grid, each with its caption underneath."""
    if not images or len(images) != len(captions):
        raise ValueError("contact_sheet needs as many captions as images, and at least one")
    h, w = images[0].shape[:2]
    scale = min(1.0, max_tile_width / w)
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * (tw + 8) + 8, rows * (th + CAPTION_PX + 8) + 8), "white")
    draw = ImageDraw.Draw(sheet)
    font = load_font(default_fonts()[0].path, 12)
    for k, (img, caption) in enumerate(zip(images, captions, strict=True)):
        x, y = 8 + (k % columns) * (tw + 8), 8 + (k // columns) * (th + CAPTION_PX + 8)
        tile = Image.fromarray(img).convert("RGB").resize((tw, th), Image.Resampling.LANCZOS)
        sheet.paste(tile, (x, y))
        draw.text((x, y + th + 2), caption, fill=(0, 0, 0), font=font)
    return sheet


def save_contact_sheet(path: Path, images: Sequence[np.ndarray], captions: Sequence[str]) -> None:
    contact_sheet(images, captions).save(path, format="PNG")
