"""The CAPTCHA schemes the fine-tuning benchmark adapts to: seeded, labelled, and new."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from ocrlab.rng import make_rng
from ocrlab.synth.relief import emboss, relief
from ocrlab.synth.stencil import _screen, solid_stencil, stencil
from ocrlab.synth.tiles import CHARS, tiles

Scheme = Callable[[np.random.Generator], tuple[Image.Image, str]]


@pytest.mark.parametrize("scheme", [stencil, solid_stencil, tiles, relief])
def test_a_scheme_is_a_pure_function_of_its_rng(scheme: Scheme) -> None:
    (a, text_a), (b, text_b) = scheme(make_rng(0, 5, 3)), scheme(make_rng(0, 5, 3))
    assert text_a == text_b and a.tobytes() == b.tobytes()
    assert scheme(make_rng(0, 5, 4))[0].tobytes() != a.tobytes()


@pytest.mark.parametrize("scheme", [stencil, solid_stencil, tiles, relief])
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


def test_emboss_lights_the_edges_facing_the_light_and_shades_the_others() -> None:
    """A raised square: flat ground and its flat top stay as they were; its left and top edges
    move the paper one way and its right and bottom edges the other, and the light comes from
    the upper left in some images and from the lower right in others."""
    height = np.zeros((40, 40), np.float32)
    height[10:30, 10:30] = 1.0
    lit_from = set()
    for i in range(12):
        shade = emboss(height, make_rng(4, 5, i))
        assert np.abs(shade[:4]).max() < 1e-3 and np.abs(shade[18:22, 18:22]).max() < 1e-3
        left, right = shade[12:28, 8:12].sum(), shade[12:28, 28:32].sum()
        top, bottom = shade[8:12, 12:28].sum(), shade[28:32, 12:28].sum()
        assert min(map(abs, (left, right, top, bottom))) > 50
        assert np.sign(left) == np.sign(top) == -np.sign(right) == -np.sign(bottom)
        lit_from.add(np.sign(left))
    assert lit_from == {-1.0, 1.0}


def test_relief_draws_its_text_in_the_papers_colour() -> None:
    """No ink of its own: pressing the text lightens about as many pixels as it darkens, so the
    image's mean stays its median (text drawn as dark ink pulls the mean some 10 levels down)."""
    for i in range(6):
        image, _ = relief(make_rng(5, 5, i))
        grey = np.asarray(image.convert("L"), np.float32)
        median = np.median(grey)
        lighter, darker = (grey > median + 40).mean(), (grey < median - 40).mean()
        assert lighter > 0.01 and darker > 0.01 and 0.5 < lighter / darker < 2
        assert abs(grey.mean() - median) < 3
