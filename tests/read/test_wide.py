"""The look at squeezed text: a short line read unsure is read again with its text wider, and
that reading is kept where it is much surer."""

from __future__ import annotations

import copy
import dataclasses
import importlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import ocrlab
from ocrlab.charset import SPECIALS, Charset
from ocrlab.read.predictor import WIDE, read_lines
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.line import to_line
from ocrlab.synth.fonts import default_fonts

predictor = importlib.import_module("ocrlab.read.predictor")  # `ocrlab.read` is a function too


def _bar(width: int) -> np.ndarray:
    """A (1, 32, 1024, 1) line: a dark bar `width` columns long to the right edge of its image."""
    image = np.full((32, width + 4), 200, np.uint8)
    image[8:24, 4:] = 10
    return to_line(image)[None, :, :, None]


def _columns(lines: np.ndarray) -> np.ndarray:
    """(n, w/4, V) probabilities of a fake model that reads a bar 150-300 columns long as `a`
    (0.95), one over 900 as `a` (0.55), one of 550-900 as `c` (0.3) and any other as `b` (0.4:
    a squeezed glyph misread)."""
    probs = np.zeros((len(lines), lines.shape[2] // 4, len(SPECIALS) + 3), np.float32)
    probs[:, :, 0] = 1.0  # blank
    for i, row in enumerate(lines[:, 16, :, 0]):
        ink = int((row < 100).sum())
        if 150 <= ink <= 300 or ink > 900:
            letter, p = "a", 0.95 if ink <= 300 else 0.55
        else:
            letter, p = ("c", 0.3) if ink > 550 else ("b", 0.4)
        probs[i, 2] = (1 - p) / (probs.shape[2] - 1)  # the rest spread over every other token
        probs[i, 2, len(SPECIALS) + "abc".index(letter)] = p
    return probs


def test_an_unsure_short_line_is_read_again_widened_and_a_much_surer_reading_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    squeezed, plain, long_, too_long, not_twice = (_bar(w) for w in (120, 200, 400, 700, 620))
    lines = np.concatenate([squeezed, plain, long_, too_long, not_twice])
    seen: list[int] = []

    def columns(cut: np.ndarray) -> np.ndarray:
        seen.append(len(cut))
        return _columns(cut)

    readings = read_lines(lines, columns, Charset("abc"), wide=True)
    # 120 * 1.5 reads; 600 is no surer, 930 surer (0.55) but not twice as sure as 0.3
    assert [r.text for r in readings] == ["a", "a", "b", "c", "c"]
    assert readings[0].confidence == pytest.approx(0.95)
    assert sum(seen) == 5 + 3  # the sure line is not read again, nor one that would not fit
    assert round(700 * WIDE) > 1024 >= round(400 * WIDE)
    plain_readings = read_lines(lines, _columns, Charset("abc"))  # no look without `wide`
    assert [r.text for r in plain_readings] == ["b", "a", "b", "c", "c"]
    monkeypatch.setattr(predictor, "WIDE_LONGEST", 0)  # "b" is longer: not read again
    assert read_lines(squeezed, _columns, Charset("abc"), wide=True)[0].text == "b"


def test_the_checkpoint_says_which_readers_look_wider() -> None:
    raw = {"kind": "line", "model": "crnn", "model_config": {}, "input_size": [32, 1024],
           "channels": 1}  # fmt: skip
    assert Checkpoint.from_dict(raw).wide is False  # a fine-tuned model learnt its widths
    assert Checkpoint.from_dict({**raw, "wide": True}).wide is True
    with pytest.raises(ocrlab.UserError, match="wide must be true or false"):
        Checkpoint.from_dict({**raw, "wide": "yes"})


def test_the_general_reader_reads_text_squeezed_to_under_half_its_width() -> None:
    """`h8pz2` in DejaVu Sans squeezed to 0.45 of its width, as the `captcha` library squeezes a
    long text into its canvas: read `h8pi2` (0.31) plainly."""
    image = Image.new("L", (200, 60), 235)
    font = ImageFont.truetype(str(default_fonts()[0].path), 40)
    ImageDraw.Draw(image).text((8, 6), "h8pz2", fill=40, font=font)
    image = image.resize((90, 60), Image.Resampling.BILINEAR)
    reader = ocrlab.load("general", "cpu")
    assert reader.checkpoint.wide is True  # type: ignore[attr-defined]
    assert reader.read([image])[0].text == "h8pz2"
    narrow = copy.copy(reader)
    narrow.checkpoint = dataclasses.replace(reader.checkpoint, wide=False)  # type: ignore[attr-defined]
    plain = narrow.read([image])[0]
    assert plain.text == "h8pi2" and plain.confidence < 0.5
