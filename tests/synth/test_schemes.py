"""The two CAPTCHA schemes the fine-tuning benchmark adapts to: seeded, labelled, and new."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from ocrlab.rng import make_rng
from ocrlab.synth.stencil import _screen, solid_stencil, stencil
from ocrlab.synth.tiles import CHARS, tiles

Scheme = Callable[[np.random.Generator], tuple[Image.Image, str]]


@pytest.mark.parametrize("scheme", [stencil, solid_stencil, tiles])
def test_a_scheme_is_a_pure_function_of_its_rng(scheme: Scheme) -> None:
    (a, text_a), (b, text_b) = scheme(make_rng(0, 5, 3)), scheme(make_rng(0, 5, 3))
    assert text_a == text_b and a.tobytes() == b.tobytes()
    assert scheme(make_rng(0, 5, 4))[0].tobytes() != a.tobytes()


@pytest.mark.parametrize("scheme", [stencil, solid_stencil, tiles])
def test_a_scheme_draws_its_alphabet_on_a_captcha_shaped_image(scheme: Scheme) -> None:
    samples = [scheme(make_rng(1, 5, i)) for i in range(40)]
    for image, text in samples:
        assert 5 <= len(text) <= 6 and set(text) <= set(CHARS)
        assert image.height >= 64 and 1.5 < image.width / image.height < 5
        assert np.asarray(image).std() > 10  # something is drawn
    assert set("#&@") & {c for _, text in samples for c in text}  # outside the general charset


def test_stencil_screen_breaks_every_stroke_into_dots() -> None:
    """Any 4 × 4 patch of the dot screen holds ink and gaps, so no stroke is drawn solid."""
    for i in range(6):
        screen = _screen(40, 60, make_rng(2, 5, i))
        assert screen.min() >= 0 and screen.max() <= 1
        patches = screen[:40, :60].reshape(10, 4, 15, 4).transpose(0, 2, 1, 3).reshape(150, 16)
        assert (patches.max(1) > 0.9).all() and (patches.min(1) < 0.1).all()


def test_solid_stencil_is_stencil_without_the_dots() -> None:
    """Same text and size from the same draws; the solid glyphs put more ink on the paper."""
    for i in range(4):
        (dotted, text), (solid, same) = stencil(make_rng(3, 5, i)), solid_stencil(make_rng(3, 5, i))
        assert text == same and dotted.size == solid.size
        assert np.asarray(solid.convert("L")).mean() < np.asarray(dotted.convert("L")).mean()
