from __future__ import annotations

import shutil
import string
from pathlib import Path

import numpy as np
import pytest

from ocrlab.errors import FontError
from ocrlab.synth.fonts import (
    check_fonts,
    default_fonts,
    fonts_in,
    load_font,
    matplotlib_font_dir,
    missing_glyphs,
    resolve_fonts,
)

ALNUM = string.ascii_lowercase + string.digits


def test_ten_distinct_default_fonts_draw_every_letter_and_digit() -> None:
    fonts = default_fonts()
    assert len(fonts) >= 10 and len({f.name for f in fonts}) == len(fonts)
    check_fonts(fonts, ALNUM, 32)
    bitmaps = {np.asarray(load_font(f.path, 32).getmask("Rag")).tobytes() for f in fonts}
    assert len(bitmaps) == len(fonts), "two default fonts render identically"


def test_missing_glyphs_are_found() -> None:
    font = load_font(default_fonts()[0].path, 32)
    assert missing_glyphs(font, "abc") == []
    assert missing_glyphs(font, "a中") == ["中"]


def test_font_without_letters_is_refused_by_name(tmp_path: Path) -> None:
    shutil.copy(matplotlib_font_dir() / "STIXSizOneSymReg.ttf", tmp_path / "symbols.ttf")
    fonts = resolve_fonts(tmp_path, with_defaults=False)
    with pytest.raises(FontError, match=r"symbols .* has no glyph for"):
        check_fonts(fonts, "word", 32)


def test_last_resort_font_drawing_boxes_for_everything_is_refused(tmp_path: Path) -> None:
    shutil.copy(matplotlib_font_dir() / "LastResortHE-Regular.ttf", tmp_path / "boxes.ttf")
    with pytest.raises(FontError, match="boxes"):
        check_fonts(resolve_fonts(tmp_path, with_defaults=False), "word", 32)


def test_corrupt_and_missing_fonts(tmp_path: Path) -> None:
    (tmp_path / "broken.ttf").write_bytes(b"not a font")
    with pytest.raises(FontError, match="cannot load font"):
        load_font(fonts_in(tmp_path)[0].path, 32)
    with pytest.raises(FontError, match="font file not found"):
        load_font(tmp_path / "nope.ttf", 32)
    with pytest.raises(FontError, match="font folder not found"):
        fonts_in(tmp_path / "nowhere")
    (tmp_path / "broken.ttf").unlink()
    with pytest.raises(FontError, match=r"no \.ttf"):
        fonts_in(tmp_path)


def test_user_fonts_are_added_in_sorted_order(tmp_path: Path) -> None:
    for name in ("b.ttf", "a.ttf"):
        shutil.copy(default_fonts()[0].path, tmp_path / name)
    names = [f.name for f in resolve_fonts(tmp_path)]
    assert names[-2:] == ["a", "b"] and len(names) == len(default_fonts()) + 2
