"""The CAPTCHA zoo: seeded samples of every family, honest hold-outs, and sets on disk."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest

from ocrlab.synth.fonts import default_fonts, load_font
from ocrlab.synth.zoo import (
    FAMILIES,
    HELD_OUT,
    TRAIN_FAMILIES,
    WIDEST,
    Family,
    Zoo,
    ZooConfig,
    draw,
    is_test_word,
)
from ocrlab.synth.zoo_set import make_zoo_set


@pytest.fixture(scope="module")
def zoo() -> Zoo:
    return Zoo(ZooConfig(families=tuple(FAMILIES), seed=1), default_fonts())


def test_a_sample_is_a_pure_function_of_seed_and_index(zoo: Zoo) -> None:
    again = Zoo(zoo.config, list(reversed(default_fonts()))[::-1])
    for i in (0, 7, 123):
        a, b = zoo.sample(i), again.sample(i)
        assert a.text == b.text and a.family == b.family and np.array_equal(a.image, b.image)
    assert not np.array_equal(zoo.sample(1).image, zoo.sample(2).image)


def test_every_family_draws_labelled_text_of_many_shapes(zoo: Zoo) -> None:
    samples = [zoo.sample(i) for i in range(240)]
    assert {s.family for s in samples} == set(FAMILIES)
    for s in samples:
        assert s.image.dtype == np.uint8 and s.image.ndim == 3 and s.image.shape[2] == 3
        assert 1 <= len(s.text) <= 12 and set(s.text) <= set(zoo.config.charset)
        assert s.image.std() > 5, s  # something is drawn
    ratios = [s.image.shape[1] / s.image.shape[0] for s in samples]
    assert min(ratios) < 1.5 and max(ratios) > 6  # from a lone glyph to a wide CAPTCHA
    assert {c for s in samples for c in s.text} >= set(string.digits)


def test_a_wide_canvas_places_its_text_anywhere_across_it() -> None:
    """Text far from the centre teaches the reader where a word far in begins."""
    family = Family("wide", margin=(0.0, 0.0), wide=1.0)
    font = load_font(default_fonts()[0].path, 30)
    shares = []
    for seed in range(60):
        grey = draw(family, "abc", font, np.random.default_rng(seed)).mean(2)
        assert grey.shape[1] <= WIDEST * grey.shape[0]
        cols = np.flatnonzero((grey < 128).any(0))
        before, after = cols[0], grey.shape[1] - 1 - cols[-1]
        shares.append(before / max(before + after, 1))
    assert min(shares) < 0.15 and max(shares) > 0.85  # near either end, not only centred


def test_held_out_effects_appear_in_no_training_family() -> None:
    assert set(HELD_OUT).isdisjoint(TRAIN_FAMILIES) and set(HELD_OUT) <= set(FAMILIES)
    for name in TRAIN_FAMILIES:
        family = FAMILIES[name]
        assert "hatching" not in family.papers and family.shadow == 0, name
        assert "salt_pepper" not in {e for e, _, _ in family.effects}, name


def test_words_kept_for_evaluation_are_never_drawn() -> None:
    zoo = Zoo(ZooConfig(word_fraction=1.0, seed=5), default_fonts())
    words = [zoo.sample(i).text for i in range(300)]
    assert not any(is_test_word(w) for w in words)
    from ocrlab.synth.vocab import english_words

    pool = english_words(2, 12)
    assert 0.08 < sum(map(is_test_word, pool)) / len(pool) < 0.12  # one word in ten is kept out


def test_a_zoo_set_is_the_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    cfg = ZooConfig(seed=2)
    for workers, out in ((1, tmp_path / "one"), (2, tmp_path / "two")):
        make_zoo_set(cfg, 150, out, fonts=("bundled",), workers=workers)
    for name in ("manifest.csv", "images/0000000.png", "images/0000149.png"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    rows = (tmp_path / "one" / "manifest.csv").read_text().splitlines()
    assert len(rows) == 151 and rows[1].split(",")[5] in TRAIN_FAMILIES


def test_named_fonts_make_the_same_set_whatever_else_is_installed(tmp_path: Path) -> None:
    """Another machine has other fonts: a set drawn from named fonts does not notice them."""
    import shutil

    from ocrlab.errors import FontError

    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(default_fonts()[0].path, more / "Extra-Regular.ttf")
    names = tuple(f.name for f in default_fonts())
    made = {}
    for key, fonts, cfg in (
        ("here", ("bundled",), ZooConfig(seed=2, fonts=names)),
        ("there", ("bundled", more), ZooConfig(seed=2, fonts=names)),
        ("unpinned", ("bundled", more), ZooConfig(seed=2)),
    ):
        out = make_zoo_set(cfg, 40, tmp_path / key, fonts=fonts)
        made[key] = [(out / "images" / f"{i:07d}.png").read_bytes() for i in range(40)]
    assert made["here"] == made["there"] != made["unpinned"]
    with pytest.raises(FontError, match=r"1 of the 2 fonts named.*Nope"):
        make_zoo_set(ZooConfig(fonts=(names[0], "Nope")), 4, tmp_path / "x", fonts=("bundled",))


def test_unknown_families_are_refused() -> None:
    from ocrlab.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown zoo families"):
        ZooConfig(families=("nope",))
