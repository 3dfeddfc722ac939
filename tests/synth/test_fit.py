"""Canvas fitting from per-font metrics: exact over many fonts, skipped for a given canvas."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from ocrlab.errors import ConfigError
from ocrlab.synth import PRESETS
from ocrlab.synth import plan as plan_module
from ocrlab.synth.fit import fit_canvas, ink_size, widest_casing
from ocrlab.synth.fonts import fonts_in, load_font
from ocrlab.synth.metrics import FontMetrics
from ocrlab.synth.plan import make_plan
from ocrlab.synth.vocab import vocab_from_document

# Wide, narrow and overhanging words beside the bundled vocabulary.
EXTREMES = ("mmmwwwmmmwwwmmm", "illiilliilliill", "fjfjffjjfjfj", "wavyjazz", "ij")
WORDS = (*vocab_from_document().words, *EXTREMES)


@pytest.fixture(scope="module")
def metrics(many_fonts_dir: Path) -> list[FontMetrics]:
    """Every many-fonts face at a small and a large size, uncached."""
    return [FontMetrics(f.path, size) for f in fonts_in(many_fonts_dir) for size in (14, 40)]


def measured(words: tuple[str, ...], m: FontMetrics) -> tuple[int, int]:
    """(height, width) by measuring every word exactly, as planning did before the metrics."""
    font = m.font
    chars = "".join(sorted({x for c in "".join(words) for x in c.lower() + c.upper()}))
    _, top, _, bottom = font.getbbox(chars, anchor="ls")
    widths = []
    for word in words:
        left, _, right, _ = font.getbbox(widest_casing(word, font.getlength), anchor="ls")
        widths.append(right - left)
    return int(bottom - top), int(max(widths))


def test_widest_casing_is_at_least_as_wide_as_either_case(metrics: list[FontMetrics]) -> None:
    for m in metrics:
        for word in ("illumination", "wmwm", "recognition"):
            w = m.font.getlength(widest_casing(word, m.font.getlength))
            assert w >= m.font.getlength(word.lower()) and w >= m.font.getlength(word.upper())


def test_fitted_ink_equals_measuring_every_word_in_every_font(
    metrics: list[FontMetrics],
) -> None:
    assert len(metrics) >= 40  # twenty-odd faces at two sizes
    for m in metrics:
        assert ink_size(WORDS, [m]) == measured(WORDS, m), (m.path.name, m.size)
    canvas = fit_canvas(WORDS, metrics, margin=0, multiple=1)
    sizes = [measured(WORDS, m) for m in metrics]
    assert (canvas.height, canvas.width) == tuple(max(s) for s in zip(*sizes, strict=True))


@pytest.mark.parametrize("size", [14, 48])
def test_planned_canvas_fits_every_casing_in_every_font(many_fonts_dir: Path, size: int) -> None:
    words = ("wavy", "jiffy", "mumbo", "AVATAR")
    doc = many_fonts_dir.parent / "words.txt"
    doc.write_text(" ".join(words))
    cfg = dataclasses.replace(
        PRESETS["hard"],
        vocab=str(doc),
        words=len(words),
        fonts_dir=str(many_fonts_dir),
        only_user_fonts=True,
        font_size=size,
    )
    plan = make_plan(cfg)
    assert len(plan.fonts) >= 20
    for spec in plan.fonts:
        font = load_font(spec.path, cfg.font_size)
        for word in words:
            for casing in itertools.product(*((c.lower(), c.upper()) for c in word)):
                mask, _ = font.getmask2("".join(casing), mode="L", anchor="ls")
                assert mask.size[0] <= plan.canvas.width and mask.size[1] <= plan.canvas.height


def test_given_canvas_skips_fitting_and_too_small_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = dataclasses.replace(PRESETS["easy"], words=30)
    fitted = make_plan(cfg)
    m = [FontMetrics(f.path, cfg.font_size) for f in fitted.fonts]
    height, width = ink_size(fitted.vocab.words, m)
    tight = (height + 2 * cfg.margin, width + 2 * cfg.margin)

    def no_fitting(*args: object, **kwargs: object) -> None:
        raise AssertionError("fit_canvas ran although the canvas was given")

    monkeypatch.setattr(plan_module, "fit_canvas", no_fitting)
    given = make_plan(dataclasses.replace(cfg, height=tight[0], width=tight[1]))
    assert (given.canvas.height, given.canvas.width) == tight
    monkeypatch.undo()
    for h, w in [(tight[0], tight[1] - 1), (tight[0] - 1, tight[1])]:
        with pytest.raises(ConfigError, match=f"need at least {fitted.canvas.height}x"):
            make_plan(dataclasses.replace(cfg, height=h, width=w))


def test_planning_reports_progress_per_font() -> None:
    seen: list[tuple[str, int, int]] = []
    make_plan(dataclasses.replace(PRESETS["easy"], words=5), lambda *step: seen.append(step))
    assert [s for s in seen if s[0] == "checking fonts"] == [
        ("checking fonts", k, 10) for k in range(1, 11)
    ]
    assert seen[-1] == ("fitting canvas", 10, 10)
