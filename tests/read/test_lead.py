"""The look at a line begun near its first character: a letter after a long stretch of paper,
dropped in the plain reading, is read there; nothing else the cut line reads is taken."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import ocrlab
from ocrlab.charset import SPECIALS, Charset
from ocrlab.read.hint import Hint
from ocrlab.read.predictor import LEAD, LEAD_ROOM, Reading, lead_look, read_lines
from ocrlab.runtime.ctc import first_spelt
from ocrlab.runtime.line import from_column
from ocrlab.synth.backgrounds import marble
from ocrlab.synth.fonts import default_fonts

predictor = importlib.import_module("ocrlab.read.predictor")  # `ocrlab.read` is a function too

INK = {10: "a", 20: "b"}
"""A fake model reads a mark of these grey levels in the first row of a line as these letters."""


def _line(**marks: int) -> np.ndarray:
    """A (1, 32, 256, 1) line on paper of 200 with a mark of each letter at its column."""
    line = np.full((1, 32, 256, 1), 200, np.uint8)
    for letter, column in marks.items():
        line[0, 0, column : column + 4, 0] = {v: k for k, v in INK.items()}[letter]
    return line


def _columns(lines: np.ndarray) -> np.ndarray:
    """(n, w/4, V) probabilities, one column in four: a mark's letter where it is (at 0.99),
    blank elsewhere; but a `b` more than 40 columns into the line is missed, as the general
    reader misses a word's first letter after a long stretch of textured paper."""
    probs = np.zeros((len(lines), lines.shape[2] // 4, len(SPECIALS) + 2), np.float32)
    probs[:, :, 0] = 1.0  # blank = <pad>, token 0
    for i, row in enumerate(lines[:, 0, ::4, 0]):
        for t, mark in enumerate(row.tolist()):
            letter = INK.get(mark)
            if letter is None or (letter == "b" and t * 4 > 40):
                continue
            probs[i, t] = [0.01, 0, 0, 0, 0, 0]
            probs[i, t, len(SPECIALS) + "ab".index(letter)] = 0.99
    return probs


def test_a_letter_dropped_far_in_is_read_with_the_line_begun_before_it() -> None:
    lines = np.concatenate([_line(b=96, a=108), _line(a=108), _line(b=20, a=30), _line()])
    seen: list[int] = []

    def columns(cut: np.ndarray) -> np.ndarray:
        seen.append(len(cut))
        return _columns(cut)

    readings = read_lines(lines, columns, Charset("ab"))
    assert [r.text for r in readings] == ["ba", "a", "ba", ""]
    assert sum(seen) == 3 + 2  # the far lines are read again; a near one and a blank one are not
    assert readings[0].confidence == pytest.approx(0.99**2)
    assert LEAD < 108 - 4 and 108 - LEAD_ROOM < 96 + 40  # the `b` is in the cut, near its start


def test_the_look_in_colour_hands_its_line_to_the_look_at_the_first_letter() -> None:
    """The look in colour hands the line its reading came from to the look at the first letter:
    a grey line read as nothing, in colour as `a` far in, is read again in colour from there.
    A sure line is not looked at in colour, and one that comes back unchanged is not read."""
    grey = np.concatenate([_line(a=8), _line(), _line()])
    kept = grey.copy()
    asked: list[list[int]] = []

    def colour(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        asked.append(idx.tolist())
        return np.arange(len(idx)), np.concatenate([grey[1:2], _line(b=96, a=108)])

    readings = read_lines(grey, _columns, Charset("ab"), colour=colour)
    assert [r.text for r in readings] == ["a", "", "ba"] and asked == [[1, 2]]
    assert np.array_equal(grey, kept)  # the caller's lines are left as they were
    assert read_lines(grey, _columns, Charset("ab"))[2].text == ""  # grey alone reads nothing


def test_a_line_reads_the_same_alone_and_in_company_and_a_hint_reaches_the_second_reading() -> None:
    far = _line(b=96, a=108)
    batch = np.concatenate([_line(a=8), far, _line(b=20, a=140), _line()])
    alone = read_lines(far, _columns, Charset("ab"))[0]
    assert read_lines(batch, _columns, Charset("ab"))[1] == alone and alone.text == "ba"
    assert read_lines(far, _columns, Charset("ab"), Hint(thorough=True))[0] == alone
    assert read_lines(far, _columns, Charset("ab"), Hint.parse("a"))[0].text == "a"  # b is out
    seen: list[int] = []

    def columns(cut: np.ndarray) -> np.ndarray:
        seen.append(len(cut))
        return _columns(cut)

    assert read_lines(far, columns, Charset("ab"), Hint.parse(length=1))[0].text == "a"
    assert seen == [1]  # told one letter, no room for a letter more: not read again
    assert read_lines(far, _columns, Charset("ab"), Hint.parse(length="1-2"))[0].text == "ba"


def test_the_first_letter_is_where_the_hinted_path_spells_it() -> None:
    probs = _columns(_line(b=20, a=108))  # b spelt at column 20 / 4, a at 108 / 4
    assert first_spelt(probs).tolist() == [5]
    allowed = np.array([len(SPECIALS)])  # `a` only
    assert first_spelt(probs, allowed).tolist() == [27]
    assert first_spelt(_columns(_line())).tolist() == [-1]


def test_only_one_more_letter_in_front_read_surely_enough_is_taken() -> None:
    plain = Reading("RAMe", 1.0)
    assert lead_look(plain, Reading("fRAMe", 0.6)).text == "fRAMe"
    assert lead_look(plain, Reading("fRAMe", 0.4)) is plain  # no surer than a guess
    assert lead_look(plain, Reading("ffRAMe", 0.9)) is plain
    assert lead_look(plain, Reading("RAMEe", 0.9)) is plain


def test_from_column_begins_each_line_at_its_column() -> None:
    lines = np.arange(2 * 2 * 6, dtype=np.uint8).reshape(2, 2, 6, 1)
    out = from_column(lines, np.array([2, 0]))
    assert out[0, :, :, 0].tolist() == [[2, 3, 4, 5, 5, 5], [8, 9, 10, 11, 11, 11]]
    assert np.array_equal(out[1], lines[1])
    with pytest.raises(ValueError, match="begins at a column"):
        from_column(lines, np.array([6, 0]))


def test_the_general_reader_reads_a_first_letter_after_marble(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`fRAMe` at the right of a wide canvas of the hard set's marble paper: read plainly,
    `RAMe` at full confidence."""
    image = Image.fromarray(marble(np.random.default_rng(0), 48, 336))
    font = ImageFont.truetype(str(default_fonts()[0].path), 30)
    ImageDraw.Draw(image).text((230, 6), "fRAMe", fill=(30, 40, 120), font=font)
    assert ocrlab.read(image, "general", device="cpu").text == "fRAMe"
    monkeypatch.setattr(predictor, "LEAD", 10**6)  # no second look
    plain = ocrlab.read(image, "general", device="cpu")
    assert (plain.text, round(plain.confidence, 2)) == ("RAMe", 1.0)


def test_the_general_reader_reads_a_first_letter_its_look_in_colour_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Khaki `ordinARy` at the right of the hard set's marble paper: grey, it reads unsure; in
    colour, `rdinARy`, sure; begun before the `r` in colour, the whole word."""
    image = Image.fromarray(marble(np.random.default_rng(0), 48, 336))
    font = ImageFont.truetype(str(default_fonts()[0].path), 30)
    ImageDraw.Draw(image).text((189, 6), "ordinARy", fill=(170, 140, 80), font=font)
    assert ocrlab.read(image, "general", device="cpu").text == "ordinARy"
    assert ocrlab.read(image, "general", device="cpu", colour=False).confidence < 0.5
    monkeypatch.setattr(predictor, "LEAD", 10**6)  # no look at the first letter
    assert ocrlab.read(image, "general", device="cpu").text == "rdinARy"
