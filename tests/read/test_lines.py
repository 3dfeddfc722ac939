"""An image of several lines, read line by line with the general reader (`--lines`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import ocrlab
from ocrlab.cli import main
from ocrlab.read.lines import LinesReader, by_lines
from ocrlab.synth.fonts import load_font, matplotlib_font_dir

TEXTS = ["Hx4mRt", "k7Qpz2wE", "Bd8uNe"]


def _page(texts: list[str]) -> np.ndarray:
    font = load_font(matplotlib_font_dir() / "DejaVuSans.ttf", 28)
    im = Image.new("L", (260, 16 + 48 * len(texts)), 235)
    for k, text in enumerate(texts):
        ImageDraw.Draw(im).text((10, 8 + 48 * k), text, fill=20, font=font)
    return np.asarray(im)


def test_each_line_is_read_and_the_readings_joined_top_to_bottom() -> None:
    page = _page(TEXTS)
    reader = ocrlab.load("general", "cpu")
    assert reader.read([page])[0].text != "".join(TEXTS)  # one line's reader reads no page
    reading = ocrlab.read(page, "general", device="cpu", lines=True)
    assert reading.text == "\n".join(TEXTS)
    alone = [reader.read([line])[0] for line in LinesReader(reader).lines(page)]
    assert [r.text for r in alone] == TEXTS
    assert reading.confidence == pytest.approx(math.prod(r.confidence for r in alone))
    newline = ("\n", 1.0)
    assert reading.chars == [*alone[0].chars, newline, *alone[1].chars, newline, *alone[2].chars]


def test_one_line_reads_exactly_as_without_lines() -> None:
    line = _page(TEXTS[:1])
    assert len(LinesReader(ocrlab.load("general", "cpu")).lines(line)) == 1
    with_lines = ocrlab.read(line, "general", device="cpu", lines=True)
    assert with_lines == ocrlab.read(line, "general", device="cpu")
    assert with_lines.text == TEXTS[0]


def test_the_cli_reads_lines_and_debug_writes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.fromarray(_page(TEXTS[:2])).save(tmp_path / "page.png")
    page = str(tmp_path / "page.png")
    assert main(["read", page, "--lines", "--device", "cpu", "--debug", str(tmp_path / "d")]) == 0
    assert f"{TEXTS[0]} / {TEXTS[1]}" in capsys.readouterr().out
    written = sorted(p.name for p in (tmp_path / "d" / "page").iterdir())
    assert written == ["00-input.png", "01-line1.png", "02-line2.png"]
    assert main(["read", page, "--lines", "--engine", "ray"]) == 2  # not quietly ignored
    assert "--engine local only" in capsys.readouterr().err


def test_the_letter_readers_cut_lines_themselves() -> None:
    page = _page(TEXTS[:2])
    reader = ocrlab.load("letters", "cpu")
    assert by_lines(reader) is reader
    assert isinstance(by_lines(ocrlab.load("general", "cpu")), LinesReader)
    assert ocrlab.read(page, reader, lines=True) == ocrlab.read(page, reader)


def test_pieces_the_segmentation_puts_on_overlapping_rows_stay_one_line() -> None:
    """A staggered baseline (or a CAPTCHA's strike-through curve) can look like two rows to the
    segmentation; lines of text do not overlap, so an image whose rows do is read whole."""
    from ocrlab.runtime.letter_lines import LetterConfig, find_lines

    font = load_font(matplotlib_font_dir() / "DejaVuSans.ttf", 28)
    im = Image.new("L", (300, 90), 235)
    ImageDraw.Draw(im).text((10, 8), "Hx4", fill=20, font=font)
    ImageDraw.Draw(im).text((150, 22), "mRt", fill=20, font=font)  # 14 px lower
    staggered = np.asarray(im)
    assert len(find_lines(staggered, LetterConfig())[1]) == 2
    reader = ocrlab.load("general", "cpu")
    assert len(LinesReader(reader).lines(staggered)) == 1
    assert ocrlab.read(staggered, reader, lines=True) == ocrlab.read(staggered, reader)


def test_a_batch_mixes_pages_and_single_lines_in_order() -> None:
    pages = [_page(TEXTS), _page(TEXTS[:1]), _page(TEXTS[1:])]
    got = ocrlab.read_many(pages, "general", device="cpu", lines=True)
    assert [r.text for r in got] == ["\n".join(TEXTS), TEXTS[0], "\n".join(TEXTS[1:])]
