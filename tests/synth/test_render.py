from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from ocrlab.errors import ConfigError
from ocrlab.rng import make_rng
from ocrlab.synth import PRESETS
from ocrlab.synth.fonts import default_fonts, load_font
from ocrlab.synth.plan import make_plan
from ocrlab.synth.render import Canvas, Style, render

WHITE = np.full((48, 400, 3), 255, np.uint8)


def test_render_is_deterministic_and_keeps_shape() -> None:
    font = load_font(default_fonts()[0].path, 32)
    style = Style((200, 0, 0), 20.0, True)
    a = render("Hello", font, WHITE, style, make_rng(1, 0, 0))
    b = render("Hello", font, WHITE, style, make_rng(1, 0, 0))
    assert a.shape == WHITE.shape and a.dtype == np.uint8 and np.array_equal(a, b)


def test_render_raises_instead_of_clipping() -> None:
    font = load_font(default_fonts()[0].path, 32)
    with pytest.raises(ValueError, match="does not fit"):
        render(
            "much too long for this", font, WHITE[:, :60], Style((0, 0, 0), 0, False), make_rng(0)
        )


def test_no_sample_is_clipped(many_fonts_dir: Path) -> None:
    """Worst case: longest words, many fonts, random casing and placement, on white without noise.

    The canvas is fitted to the vocabulary; no ink may reach the outermost pixel on any side, and
    the ink of each image must equal the ink of the same text drawn on a canvas too large to clip.
    """
    cfg = dataclasses.replace(
        PRESETS["hard"],
        backgrounds=("plain",),
        noise_levels=(0.0,),
        colours=("black",),
        words=100,
        fonts_dir=str(many_fonts_dir),
        only_user_fonts=True,
    )
    plan = make_plan(cfg)
    longest = sorted(range(len(plan.vocab)), key=lambda i: -len(plan.vocab.words[i]))[:8]
    big = np.full((plan.canvas.height * 3, plan.canvas.width * 3, 3), 255, np.uint8)
    for word, font_index in itertools.product(longest, range(len(plan.fonts))):
        s, image = plan.render(int(np.ravel_multi_index((0, 0, 0, word, font_index), plan.grid)))
        ink = image.min(axis=2) < 250
        assert not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any()), s.text
        font = load_font(plan.fonts[s.font].path, cfg.font_size)
        loose = render(s.text, font, big, Style((20, 20, 20), 0, False), make_rng(0))
        assert ink.sum() == (loose.min(axis=2) < 250).sum(), s.text


def test_explicit_canvas_too_small_is_refused() -> None:
    cfg = dataclasses.replace(PRESETS["easy"], height=20, width=60)
    with pytest.raises(ConfigError, match="would clip text"):
        make_plan(cfg)


@pytest.mark.parametrize(("h", "w"), [(4, 100), (100, 4), (4096, 4096)])
def test_absurd_canvas_sizes_are_refused(h: int, w: int) -> None:
    with pytest.raises(ConfigError, match="out of range"):
        Canvas(h, w)
