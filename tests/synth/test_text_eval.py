"""The clean-text evaluation set: reserved fonts only, its layouts, seeded bytes."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

from ocrlab.synth.fonts import font_family, is_reserved, system_font_files
from ocrlab.synth.text_eval import CANVAS, TextEvalConfig, make_text_eval


def test_text_eval_draws_reserved_fonts_in_both_layouts(tmp_path: Path) -> None:
    cfg = TextEvalConfig(count=24, seed=4)
    make_text_eval(cfg, tmp_path / "a")
    make_text_eval(cfg, tmp_path / "b", workers=2)
    assert (tmp_path / "a" / "manifest.csv").read_bytes() == (
        tmp_path / "b" / "manifest.csv"
    ).read_bytes()
    text = (tmp_path / "a" / "manifest.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert {r["background"] for r in rows} == {"tight", "canvas"}
    files = {p.stem: p for p in system_font_files()}
    for row in rows:
        assert 3 <= len(row["text"]) <= 9 and row["text"].isalpha()
        assert is_reserved(font_family(files[row["font"]]))
        with Image.open(tmp_path / "a" / row["path"]) as im:
            if row["background"] == "canvas":
                assert (im.height, im.width) == CANVAS
            else:
                assert im.height < 60 and im.width < 400


def test_turned_strings_are_tilted_tight_crops_and_seeded(tmp_path: Path) -> None:
    import numpy as np

    from ocrlab.runtime.line import turn

    cfg = TextEvalConfig(count=8, layouts=("turned",), seed=4)
    make_text_eval(cfg, tmp_path / "a")
    make_text_eval(cfg, tmp_path / "b", workers=2)
    assert (tmp_path / "a" / "manifest.csv").read_bytes() == (
        tmp_path / "b" / "manifest.csv"
    ).read_bytes()
    rows = list(csv.DictReader((tmp_path / "a" / "manifest.csv").read_text().splitlines()))
    assert {r["background"] for r in rows} == {"turned"}
    turns = []
    for row in rows:
        with Image.open(tmp_path / "a" / row["path"]) as im:
            turns.append(turn(np.asarray(im.convert("L"))))
    # 4-15 degrees either way; the preprocessing leaves the least turned ones as they are
    assert all(abs(t) <= 16 for t in turns) and sum(abs(t) >= 4 for t in turns) >= 4
    assert {np.sign(t) for t in turns if t} == {-1.0, 1.0}


def test_page_strings_are_the_tight_strings_with_a_page_round_them(tmp_path: Path) -> None:
    """The same texts and fonts as the tight layout of the same seed, each on a page 3-6 times
    its height, which the general reader's preprocessing cuts back to the text."""
    import numpy as np

    from ocrlab.runtime.line import HEIGHT, text_widths, to_line

    make_text_eval(TextEvalConfig(count=6, layouts=("page",), seed=4), tmp_path / "page")
    make_text_eval(TextEvalConfig(count=6, layouts=("tight",), seed=4), tmp_path / "tight")
    pages, tights = (
        list(csv.DictReader((tmp_path / kind / "manifest.csv").read_text().splitlines()))
        for kind in ("page", "tight")
    )
    assert [(r["text"], r["font"]) for r in pages] == [(r["text"], r["font"]) for r in tights]
    for page, tight in zip(pages, tights, strict=True):
        with (
            Image.open(tmp_path / "page" / page["path"]) as a,
            Image.open(tmp_path / "tight" / tight["path"]) as b,
        ):
            assert a.height >= 3 * (b.height - 6) and a.width > b.width
            lines = np.stack([to_line(np.asarray(im.convert("L"))) for im in (a, b)])[..., None]
        assert lines.shape[1] == HEIGHT
        wide, narrow = text_widths(lines)  # the page's line is its text, as the tight crop's
        assert abs(int(wide) - int(narrow)) <= 0.25 * narrow


def test_named_reserved_fonts_make_the_same_set_whatever_else_is_installed(
    tmp_path: Path,
) -> None:
    import shutil

    from ocrlab.synth.text_eval import eval_fonts

    found = eval_fonts(TextEvalConfig().chars)
    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(found[0].path, more / "LiberationExtra-Regular.ttf")  # a reserved family too
    names = tuple(f.name for f in found[:3])
    cfg = TextEvalConfig(count=30, seed=4, fonts=names)
    make_text_eval(cfg, tmp_path / "here")
    make_text_eval(cfg, tmp_path / "there", folders=(str(more),))
    make_text_eval(TextEvalConfig(count=30, seed=4), tmp_path / "all", folders=(str(more),))
    rows = {k: (tmp_path / k / "manifest.csv").read_text() for k in ("here", "there", "all")}
    assert rows["here"] == rows["there"] != rows["all"]
    assert {r["font"] for r in csv.DictReader(rows["here"].splitlines())} <= set(names)
