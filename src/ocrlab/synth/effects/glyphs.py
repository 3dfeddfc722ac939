"""Lay text out as an ink mask: whole strings with the font's own spacing, or glyph by glyph.

Glyph by glyph is what CAPTCHAs do to defeat segmentation: each character turned, scaled,
stretched, warped and moved off the baseline, and squeezed until neighbours touch or overlap.
The result is one float32 mask in [0, 1] (1 = ink) cropped to the ink, plus the x-range of every
glyph for per-glyph colours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from PIL import Image, ImageFont


@dataclass(frozen=True)
class Layout:
    """How glyphs are placed; the defaults leave the font's own layout untouched."""

    rotate: float = 0.0
    """Largest turn of one glyph, degrees (each glyph draws its own)."""
    scale: float = 0.0
    """Largest relative change of one glyph's size."""
    baseline: float = 0.0
    """Largest shift of one glyph off the baseline, as a fraction of the font size."""
    spacing: tuple[float, float] = (1.0, 1.0)
    """Range of the advance factor: below 1 squeezes glyphs together until they overlap."""
    stretch: float = 0.0
    """Largest relative change of one glyph's width alone: narrow and wide glyphs in one word."""
    warp: float = 0.0
    """Largest move of one glyph's corner, as a fraction of its size: each glyph its own
    quadrilateral (tapered, sheared, rescaled), as CAPTCHAs that warp glyph by glyph draw them."""


PLAIN = Layout()


@dataclass
class Ink:
    """A text mask (H, W) float32 in [0, 1] and each glyph's [x0, x1) columns."""

    mask: np.ndarray
    spans: list[tuple[int, int]]


def _mask(font: ImageFont.FreeTypeFont, text: str) -> tuple[np.ndarray, tuple[int, int]]:
    """(h, w) uint8 ink of `text` and its offset from the baseline origin (anchor 'ls')."""
    core, offset = font.getmask2(text, mode="L", anchor="ls")
    arr = np.asarray(core, dtype=np.uint8).reshape(core.size[1], core.size[0])
    return arr, (int(offset[0]), int(offset[1]))


def lay_out(
    text: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator, layout: Layout = PLAIN
) -> Ink:
    """Draw `text` in `font` as an ink mask cropped to its ink."""
    if layout == PLAIN:
        arr, _ = _mask(font, text)
        mask = arr.astype(np.float32) / 255.0
        return _crop(mask, _plain_spans(text, font, mask.shape[1]))
    size = font.size
    pieces, x = [], 0.0
    for ch in text:
        arr, (ox, oy) = _mask(font, ch)
        glyph = Image.fromarray(arr)
        factor = 1.0 + rng.uniform(-layout.scale, layout.scale)
        wide = 1.0 + rng.uniform(-layout.stretch, layout.stretch) if layout.stretch else 1.0
        if (factor != 1.0 or wide != 1.0) and min(glyph.size) > 0:
            glyph = glyph.resize(
                (max(1, round(glyph.width * factor * wide)), max(1, round(glyph.height * factor))),
                Image.Resampling.BILINEAR,
            )
        if layout.warp and min(glyph.size) > 0:
            warped = _warp(glyph, rng, layout.warp)
            box = warped.getbbox()
            glyph = warped.crop(box) if box else glyph
        if layout.rotate and min(glyph.size) > 0:
            glyph = glyph.rotate(
                rng.uniform(-layout.rotate, layout.rotate),
                Image.Resampling.BILINEAR,
                expand=True,
            )
        dy = rng.uniform(-layout.baseline, layout.baseline) * size
        cx = x + (ox + arr.shape[1] / 2) * wide  # keep the glyph centred where the font puts it
        cy = oy + arr.shape[0] / 2 + dy
        pieces.append((np.asarray(glyph, np.float32) / 255.0, cx, cy))
        x += font.getlength(ch) * wide * rng.uniform(*layout.spacing)
    return _compose(pieces)


def _warp(glyph: Image.Image, rng: np.random.Generator, amount: float) -> Image.Image:
    """`glyph` mapped from a quadrilateral: each corner of its padded box moved by up to `amount`
    of the glyph's size (PIL's bilinear QUAD), which tapers, shears and rescales it (0.75 to 1.5
    times at 0.25), on a canvas with room to keep all of it (`lay_out` cuts it to its ink)."""
    w, h = glyph.size
    pad = math.ceil(amount * max(w, h)) + 1  # corners move inwards by at most this, less a pixel
    canvas = Image.new("L", (w + 2 * pad, h + 2 * pad))
    canvas.paste(glyph, (pad, pad))
    cw, ch = canvas.size
    corners = np.array([(0, 0), (0, ch), (cw, ch), (cw, 0)], np.float64)  # PIL's QUAD order
    corners += rng.uniform(-amount, amount, (4, 2)) * (w, h)
    return canvas.transform(canvas.size, Image.Transform.QUAD, tuple(corners.ravel()),
                            Image.Resampling.BILINEAR)  # fmt: skip


def _compose(pieces: list[tuple[np.ndarray, float, float]]) -> Ink:
    """Paste glyphs (mask, centre x, centre y) into one mask, ink kept where glyphs overlap."""
    boxes = [(round(cx - g.shape[1] / 2), round(cy - g.shape[0] / 2), g) for g, cx, cy in pieces]
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    width = max(b[0] + b[2].shape[1] for b in boxes) - left
    height = max(b[1] + b[2].shape[0] for b in boxes) - top
    mask = np.zeros((max(1, height), max(1, width)), np.float32)
    spans = []
    for x0, y0, g in boxes:
        x0, y0 = x0 - left, y0 - top
        region = mask[y0 : y0 + g.shape[0], x0 : x0 + g.shape[1]]
        np.maximum(region, g, out=region)
        spans.append((x0, x0 + g.shape[1]))
    return _crop(mask, spans)


def _plain_spans(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[tuple[int, int]]:
    """Approximate glyph columns of a whole-string rendering, from cumulative advances."""
    edges = [font.getlength(text[:k]) for k in range(len(text) + 1)]
    scale = width / max(edges[-1], 1.0)
    return [(int(a * scale), max(int(a * scale) + 1, int(b * scale))) for a, b in pairwise(edges)]


def _crop(mask: np.ndarray, spans: list[tuple[int, int]]) -> Ink:
    """Cut empty rows and columns; spans follow the columns."""
    rows, cols = np.flatnonzero(mask.max(1) > 0.02), np.flatnonzero(mask.max(0) > 0.02)
    if len(rows) == 0 or len(cols) == 0:
        raise ValueError("the text drew no ink")
    x0 = int(cols[0])
    cropped = mask[rows[0] : rows[-1] + 1, x0 : cols[-1] + 1]
    w = cropped.shape[1]
    spans = [(min(max(a - x0, 0), w - 1), min(max(b - x0, 1), w)) for a, b in spans]
    return Ink(np.ascontiguousarray(cropped), spans)
