"""A thorough reading: each line read in several views, the reading they agree on kept."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import ocrlab
from ocrlab.cli import main
from ocrlab.errors import ConfigError
from ocrlab.read.hint import Hint, hinted
from ocrlab.read.predictor import SURE, agree, read_views
from ocrlab.read.reading import Reading
from ocrlab.runtime.line import VIEWS, text_widths, to_line, view
from ocrlab.serve.app import create_app
from ocrlab.serve.settings import ServeSettings


def _png(text: str) -> bytes:
    buf = io.BytesIO()
    ocrlab.render(text, style="easy").save(buf, "PNG")
    return buf.getvalue()


def _line(width: int = 120, value: int = 200) -> np.ndarray:
    """One (1, 32, 1024, 1) line: a dark bar to its right edge on its padding `value`."""
    image = np.full((32, width), value, np.uint8)
    image[8:24, 4:] = 10
    return to_line(image)[None, :, :, None]


def test_a_view_scales_the_text_and_keeps_the_line_s_padding() -> None:
    line = _line()
    assert np.array_equal(view(line, 1.0, 1.0), line)
    narrow, small = view(line, 0.8, 1.0), view(line, 1.0, 0.5)
    assert narrow.shape == small.shape == line.shape
    assert text_widths(narrow)[0] == 96 and text_widths(small)[0] == 60
    assert (narrow[0, :, 96:] == 200).all()  # the padding is the line's own colour
    assert (small[0, :8] == 200).all() and (small[0, 24:] == 200).all()  # centred, rows of paper
    assert small[0, 16, 10, 0] == 10  # the bar, half as tall
    assert VIEWS[0] == (1.0, 1.0)  # the line itself is one of the views


def test_agreement_sums_confidence_per_text() -> None:
    readings = [
        Reading("ab", 0.5, [("a", 0.9), ("b", 0.55)]),
        Reading("xy", 0.7, [("x", 0.8), ("y", 0.9)]),
        Reading("ab", 0.4, [("a", 0.8), ("b", 0.5)]),
    ]
    kept = agree(readings)
    assert kept.text == "ab"  # 0.9 summed beats one surer reading of 0.7
    assert kept.confidence == pytest.approx(0.3)
    assert kept.chars == readings[0].chars  # its surest reading's characters
    assert kept.topk == [("ab", kept.confidence)]  # alternatives only when asked for
    more = agree([*readings, Reading("", 0.0)], top_k=5)
    assert [t for t, _ in more.topk] == ["ab", "xy"]  # no alternative nothing voted for
    assert more.topk[1][1] == pytest.approx(0.7 / 4)


def test_a_view_that_would_overflow_a_squeezed_line_has_no_vote() -> None:
    squares = np.kron(np.indices((8, 500)).sum(0) % 2, np.ones((4, 4))) * 200 + 10
    full = to_line(squares.astype(np.uint8))[None, :, :, None]  # 2,000 columns, squeezed
    assert text_widths(full)[0] == 1024

    def read(lines: np.ndarray) -> list[Reading]:  # the line itself reads "a", any change "b"
        return [Reading("a" if np.array_equal(x, full[0]) else "b", 0.5) for x in lines]

    kept = read_views(full, read, Hint(thorough=True))[0]
    assert kept.text == "b" and kept.confidence == pytest.approx(0.5 * 4 / 5)  # 2 views out
    assert read_views(full, read, None)[0].text == "a"
    with pytest.raises(ValueError, match="shrinks"):
        view(full, 1.0, 1.5)


def test_a_thorough_reading_reads_other_views_of_unsure_lines_only() -> None:
    """A line read with a confidence of `SURE` or more keeps its reading and costs no other view;
    asked for alternatives, every line is read in every view, since they come from the views."""
    lines = np.concatenate([_line(120), _line(200), _line(160)])
    batches: list[int] = []

    def read(batch: np.ndarray) -> list[Reading]:  # the lines themselves first, then views
        batches.append(len(batch))
        sure = [SURE, 0.3, 0.95] if len(batches) == 1 else [0.2] * len(batch)
        return [Reading("x", c) for c in sure]

    kept = read_views(lines, read, Hint(thorough=True))
    assert batches == [3] + [1] * (len(VIEWS) - 1)  # only the line read at 0.3 again
    assert [r.confidence for r in kept] == [SURE, pytest.approx((0.3 + 0.2 * 6) / 7), 0.95]
    batches.clear()
    assert len(read_views(lines, read, Hint(thorough=True), top_k=2)) == 3
    assert batches == [3] * len(VIEWS)


def test_a_thorough_reading_agrees_across_entry_points_and_torch_and_onnx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocrlab.read.onnx import export_onnx

    image = _png("Quartz")
    thorough = ocrlab.read(image, "general", device="cpu", thorough=True)
    assert thorough.text == "Quartz" and 0 < thorough.confidence <= 1
    assert ocrlab.read(image, "general", device="cpu").text == "Quartz"  # cache left plain
    onnx = ocrlab.load(export_onnx("general", tmp_path / "general.onnx"))
    again = hinted(onnx, Hint(thorough=True)).read([image])[0]
    assert again.text == thorough.text
    assert again.confidence == pytest.approx(thorough.confidence, abs=0.02)
    whole = copy.copy(onnx)  # as a file exported before lines were read at their text's width
    whole.any_width, whole.size = False, (32, 1024)
    plain = whole.read([image])[0]
    closer = hinted(whole, Hint(thorough=True)).read([image], top_k=2)[0]  # every view
    assert plain.text == closer.text == "Quartz" and closer.confidence != plain.confidence
    blank = np.full((40, 160, 3), 230, np.uint8)
    assert ocrlab.read(blank, "general", thorough=True).text == ""
    with pytest.raises(ConfigError, match="line model"):
        ocrlab.read(image, "words", thorough=True)

    path = tmp_path / "quartz.png"
    path.write_bytes(image)
    assert main(["read", "--thorough", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: Quartz  (")
    app = create_app({"general": "general"}, ServeSettings(device="cpu"))
    with TestClient(app) as client:
        query = client.post("/v1/read?thorough=true", content=image).json()
        form = client.post("/v1/read", files={"image": image}, data={"thorough": "on"}).json()
        bad = client.post("/v1/read", files={"image": image}, data={"thorough": "maybe"})
    assert query["text"] == form["text"] == "Quartz"
    assert query["confidence"] == pytest.approx(thorough.confidence, abs=1e-6)
    assert bad.status_code == 422 and "thorough must be true or false" in bad.json()["detail"]


def test_a_thorough_reading_is_the_same_alone_or_in_a_batch() -> None:
    images = [np.asarray(Image.open(io.BytesIO(_png(t)))) for t in ("Hello", "ab12", "XYZZY")]
    reader = hinted(ocrlab.load("general", "cpu"), Hint(thorough=True))
    together = reader.read(images)
    alone = [reader.read([image])[0] for image in images]
    assert [r.text for r in together] == [r.text for r in alone]
    assert [r.confidence for r in together] == pytest.approx([r.confidence for r in alone])


def test_eval_reads_thoroughly_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "words"
    data.mkdir()
    for text in ("Hello", "World"):
        (data / f"{text}.png").write_bytes(_png(text))
    args = ["eval", "--model", "general", "--data", str(data), "--workers", "1", "--thorough"]
    assert main(args) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["hint"]["thorough"] is True and metrics["images"] == 2
    assert main([*args[:2], "words", *args[3:]]) == 2
    assert "thorough reading" in capsys.readouterr().err
