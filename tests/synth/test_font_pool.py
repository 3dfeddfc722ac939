"""Font pools: the families reserved for evaluation never reach a training pool."""

from __future__ import annotations

import string

import pytest

from ocrlab.synth.fonts import (
    caseless,
    default_fonts,
    font_family,
    font_pool,
    is_reserved,
    is_text,
    load_font,
    system_font_files,
)

RESERVED = ["Liberation Sans", "Liberation Serif Narrow", "Arimo", "Tinos", "Cousine",
            "FreeSans", "FreeMono", "Nimbus Sans", "NimbusRoman", "C059", "P052", "URW Gothic",
            "URW Bookman", "Z003", "TeX Gyre Heros", "texgyretermes", "Sans Uralic"]  # fmt: skip
FREE = ["DejaVu Sans", "Noto Serif", "Roboto", "Open Sans", "Lato", "Free Range", "Cantarell"]


@pytest.mark.parametrize("family", RESERVED)
def test_reserved_families_are_recognised_by_name(family: str) -> None:
    assert is_reserved(family)


@pytest.mark.parametrize("family", FREE)
def test_other_families_are_not_reserved(family: str) -> None:
    assert not is_reserved(family)


def test_symbol_and_phonetic_fonts_are_not_text() -> None:
    assert not is_text("Noto Sans Symbols") and not is_text("Amatic SC")
    assert is_text("DejaVu Sans")


def test_the_bundled_fonts_make_a_case_sensitive_training_pool() -> None:
    pool = font_pool(("bundled",), "train", string.ascii_letters + string.digits)
    assert [f.name for f in pool] == sorted(f.name for f in default_fonts())
    assert not any(caseless(load_font(f.path, 32)) for f in pool)
    assert font_pool(("bundled",), "eval") == []


def test_system_pools_split_by_family() -> None:
    """Every system font is in exactly one of the two pools (or in neither, if unusable)."""
    if not system_font_files():
        pytest.fail("no system fonts: `make test` installs Debian's reserved evaluation fonts")
    train = font_pool(("system",), "train")
    held = font_pool(("system",), "eval")
    assert held, "`make test` installs fonts-liberation; no reserved family was found"
    assert not any(is_reserved(font_family(f.path)) for f in train)
    assert all(is_reserved(font_family(f.path)) for f in held)
    assert {f.path for f in train}.isdisjoint(f.path for f in held)
