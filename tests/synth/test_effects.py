"""Glyph-by-glyph layouts and interference strokes draw what their docstrings promise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFont

from ocrlab.synth.effects import clutter, warp
from ocrlab.synth.effects.glyphs import Layout, _mask, _warp, lay_out
from ocrlab.synth.fonts import default_fonts, load_font

UNCHANGED = Layout(spacing=(1.0, 1.0 + 1e-9))  # glyph by glyph, nothing moved


def _font() -> ImageFont.FreeTypeFont:
    return load_font(default_fonts()[0].path, 32)


def test_stretch_makes_narrow_and_wide_glyphs_of_one_height() -> None:
    rng = np.random.default_rng(0)
    plain = lay_out("HHHHHHHH", _font(), rng, UNCHANGED)
    stretched = lay_out("HHHHHHHH", _font(), rng, Layout(stretch=0.4))
    widths = [b - a for a, b in plain.spans[1:-1]]  # the ends lose their bearings to the crop
    assert max(widths) - min(widths) <= 1
    widths = [b - a for a, b in stretched.spans[1:-1]]
    assert max(widths) > 1.3 * min(widths)
    assert stretched.mask.shape[0] == plain.mask.shape[0]  # heights are left alone
    gaps = [b[0] - a[1] for a, b in zip(stretched.spans, stretched.spans[1:], strict=False)]
    assert min(gaps) >= -1  # each advance follows its glyph's width: neighbours do not overlap


def test_warp_moves_a_glyph_without_cutting_it() -> None:
    for size, text in ((14, "W"), (32, "g"), (57, "M"), (90, "Q")):
        glyph = Image.fromarray(_mask(load_font(default_fonts()[0].path, size), text)[0])
        for seed in range(40):
            warped = np.asarray(_warp(glyph, np.random.default_rng(seed), 0.25))
            border = np.concatenate([warped[0], warped[-1], warped[:, 0], warped[:, -1]])
            assert border.max() == 0 and warped.any(), (size, text, seed)  # room all round


Stroke = Callable[[np.ndarray, np.random.Generator, np.ndarray, int], np.ndarray]


def _steep_ends(stroke: Stroke, seeds: int = 40) -> int:
    """How many of the strokes' ends rise or fall by over a third of the height in 8 columns."""
    h, w, steep = 40, 200, 0
    for seed in range(seeds):
        img = stroke(np.full((h, w, 3), 255.0, np.float32), np.random.default_rng(seed),
                     np.zeros(3), 1)  # fmt: skip
        ink = img.mean(2) < 128
        cols = np.flatnonzero(ink.any(0))
        assert len(cols) >= 0.3 * w  # a stroke across the text
        for start in (cols[0], cols[-1] - 7):
            rows = np.flatnonzero(ink[:, start : start + 8].any(1))
            steep += rows[-1] - rows[0] > 0.35 * h
    return steep


def test_hook_strokes_end_in_ticks_where_straight_strokes_do_not() -> None:
    assert _steep_ends(clutter.lines) == 0 and _steep_ends(clutter.bezier) == 0
    assert _steep_ends(clutter.hook) >= 8


def test_squeeze_narrows_the_image_and_its_strokes_not_their_height() -> None:
    img = np.full((40, 200, 3), 255.0, np.float32)
    img[5:35, 50:70] = 0  # a bar 20 columns wide
    widths = []
    for seed in range(6):
        out = warp.squeeze(img, np.random.default_rng(seed), 0.45)
        h, w = out.shape[:2]
        assert h == 40 and 90 <= w <= 200
        bar = out[:, :, 0] < 128
        assert abs(int(bar[20].sum()) - 20 * w / 200) <= 2
        assert bar.any(axis=1).sum() == 30  # rows 5-34 keep the bar, the others stay paper
        widths.append(w)
    assert min(widths) < 150
