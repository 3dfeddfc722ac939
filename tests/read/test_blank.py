"""A blank image holds no text: every line reader (torch and ONNX share `read_lines`) says so
instead of naming the letter a model trained only on text would guess."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

import ocrlab
from ocrlab.charset import Charset
from ocrlab.read.predictor import read_lines
from ocrlab.runtime.preprocess import PREPROCESS


def _jpeg(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=60)
    return buf.getvalue()


def test_blank_lines_read_as_no_text_and_one_thin_stroke_is_read() -> None:
    rng = np.random.default_rng(0)
    blank = np.full((40, 120, 3), 200, np.uint8)
    speckled = np.clip(200 + rng.normal(0, 1, (40, 120, 3)), 0, 255).astype(np.uint8)
    stroke = np.full((30, 600), 235, np.uint8)
    stroke[4:26, 300:302] = 20  # an 'l' or an 'I': two columns of ink in 600
    images = [blank, _jpeg(speckled), np.zeros((1, 1), np.uint8), stroke]
    lines = np.stack([PREPROCESS["line"](image, None, "L") for image in images])
    asked: list[int] = []

    def columns(batch: np.ndarray) -> np.ndarray:
        asked.append(len(batch))
        probs = np.zeros((len(batch), batch.shape[2] // 4, 5), np.float32)
        probs[:, :, 0] = 1.0
        probs[:, 1, :] = [0, 0, 0, 0, 1]  # every inked line reads 'x'
        return probs

    readings = read_lines(lines, columns, Charset("x"))
    assert [r.text for r in readings] == ["", "", "", "x"] and sum(asked) == 1
    assert ocrlab.read(blank).text == ""  # the shipped default reader


def test_no_images_read_as_no_readings() -> None:
    assert ocrlab.load("general").read([]) == []
