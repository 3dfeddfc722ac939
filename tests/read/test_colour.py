"""The general reader's second look in colour: a line it is unsure of whose image has colour
contrast its grey lost is read again with that contrast kept, and the surer reading is kept."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

import ocrlab
from ocrlab.charset import SPECIALS, Charset
from ocrlab.cli import main
from ocrlab.read.predictor import SURE, colour_look, read_lines
from ocrlab.runtime.line import to_line
from ocrlab.serve.app import create_app
from ocrlab.serve.settings import ServeSettings
from ocrlab.synth.fonts import default_fonts

MARKS = {0: ("a", 0.99), 50: ("a", 0.55), 100: ("b", 0.6)}
"""A fake model's reading of a line by its top-left pixel: the letter and its probability."""


def _line(mark: int) -> np.ndarray:
    image = np.full((32, 120), 200, np.uint8)
    image[8:24, 20:100] = 10
    line = to_line(image)
    line[0, 0] = mark
    return line[None, :, :, None]


def _columns(lines: np.ndarray) -> np.ndarray:
    """(n, w/4, V) probabilities: the first column spells the line's mark, the rest are blank."""
    probs = np.zeros((len(lines), lines.shape[2] // 4, len(SPECIALS) + 2), np.float32)
    probs[:, :, 0] = 1.0  # blank = <pad>, token 0
    for i, mark in enumerate(lines[:, 0, 0, 0]):
        letter, p = MARKS[int(mark)]
        probs[i, 0] = 0.0
        probs[i, 0, len(SPECIALS) + "ab".index(letter)] = p
        probs[i, 0, 0] = 1 - p
    return probs


def test_only_unsure_lines_with_colour_contrast_are_read_again_and_the_surer_kept() -> None:
    luma = np.concatenate([_line(100), _line(100), _line(0), _line(100)])
    kept_contrast = np.concatenate([_line(0), _line(100), _line(0), _line(50)])
    asked: list[list[int]] = []

    def colour(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        asked.append(idx.tolist())
        return np.arange(len(idx)), kept_contrast[idx]

    plain = read_lines(luma, _columns, Charset("ab"))
    assert [r.text for r in plain] == ["b", "b", "a", "b"] and plain[0].confidence < SURE
    looked = read_lines(luma, _columns, Charset("ab"), colour=colour)
    assert asked == [[0, 1, 3]]  # the sure line is not looked at again
    assert [r.text for r in looked] == ["a", "b", "a", "b"]  # line 3's colour reading was less sure
    assert looked[0].confidence == pytest.approx(0.99)
    assert read_lines(luma[2:3], _columns, Charset("ab"), colour=colour)[0].text == "a"
    assert asked == [[0, 1, 3]]  # nothing unsure: no look

    def third_in_colour(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.array([2]), _line(0)  # the others' images are grey: no colour line for them

    looked = read_lines(luma, _columns, Charset("ab"), colour=third_in_colour)
    assert [r.text for r in looked] == ["b", "b", "a", "a"]  # the third unsure line is line 3


def test_the_colour_look_prepares_only_images_in_colour() -> None:
    reader = ocrlab.load("general", "cpu")
    khaki = np.asarray(Image.open(io.BytesIO(_khaki("Quartz"))).convert("RGB"))
    grey = np.repeat(khaki.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    look = colour_look(reader, [grey, khaki, grey[..., :1], khaki])
    assert look is not None
    which, lines = look(np.array([0, 1, 2]))
    assert which.tolist() == [1] and lines.shape == (1, *reader.size, 1)  # type: ignore[attr-defined]
    assert np.array_equal(lines[0], look(np.array([3]))[1][0])
    assert not np.array_equal(lines[0], reader.preprocess([khaki])[0])  # type: ignore[attr-defined]


def _khaki(text: str) -> bytes:
    """`text` in khaki on kraft paper: five grey levels apart in luma, far apart in colour."""
    font = ImageFont.truetype(str(default_fonts()[0].path), 32)
    image = Image.new("RGB", (30 * len(text) + 20, 56), (196, 150, 96))
    ImageDraw.Draw(image).text((10, 8), text, fill=(150, 160, 110), font=font)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def general_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ocrlab.read.onnx import export_onnx

    return export_onnx("general", tmp_path_factory.mktemp("onnx") / "general.onnx")


def test_the_general_reader_reads_khaki_on_kraft_on_every_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], general_onnx: Path
) -> None:
    image = _khaki("Quartz")
    reader = ocrlab.load("general", "cpu")
    assert reader.checkpoint.colour is True  # type: ignore[attr-defined]
    grey_only = copy.copy(reader)
    grey_only.checkpoint = dataclasses.replace(reader.checkpoint, colour=False)  # type: ignore[attr-defined]
    assert grey_only.read([image])[0].text == ""  # its grey is a blank line
    torch_reading = reader.read([image])[0]
    assert torch_reading.text == "Quartz"
    onnx = ocrlab.load(general_onnx)
    assert onnx.read([image])[0].text == "Quartz"
    assert ocrlab.read(image, "general", device="cpu", lines=True).text == "Quartz"
    app = create_app({"general": "general"}, ServeSettings(device="cpu"))
    with TestClient(app) as client:
        assert client.post("/v1/read", content=image).json()["text"] == "Quartz"
    data = tmp_path / "khaki"
    data.mkdir()
    (data / "Quartz.png").write_bytes(image)
    (data / "Hello.png").write_bytes(_khaki("Hello"))
    for model in ("general", str(general_onnx)):  # an export is scored as it reads
        assert main(["eval", "--model", model, "--data", str(data), "--workers", "1"]) == 0
        assert json.loads(capsys.readouterr().out)["exact"] == 1.0
    grey = np.asarray(Image.open(io.BytesIO(image)).convert("RGB").convert("L").convert("RGB"))
    assert reader.read([grey])[0].text == ""  # no colour, no second look


def test_told_not_to_the_general_reader_reads_grey_only_on_every_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    general_onnx: Path,
) -> None:
    import ocrlab.serve.label
    from ocrlab.errors import ConfigError
    from ocrlab.read.hint import Hint, hinted

    image = _khaki("Quartz")
    path = tmp_path / "khaki" / "Quartz.png"
    path.parent.mkdir()
    path.write_bytes(image)
    assert Hint.parse(colour=False) == Hint(colour=False) and Hint.parse(colour=True) is None
    words = ocrlab.load("words", "cpu")
    assert hinted(words, Hint(colour=False)) is words  # it never looks in colour
    with pytest.raises(ConfigError, match="thorough reading, is for a line model"):
        hinted(words, Hint(thorough=True, colour=False))
    assert ocrlab.read(image, "general", device="cpu").text == "Quartz"
    assert ocrlab.read(image, "general", device="cpu", colour=False).text == ""
    assert [r.text for r in ocrlab.read_many([image], "general", colour=False)] == [""]
    assert ocrlab.read(image, general_onnx, colour=False).text == ""
    assert ocrlab.read(image, "general", device="cpu", lines=True, colour=False).text == ""
    assert main(["read", str(path), "--model", "general", "--no-colour"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}:   (")  # nothing read
    app = create_app({"general": "general", "words": "words"}, ServeSettings(device="cpu"))
    with TestClient(app) as client:
        assert client.post("/v1/read?colour=false", content=image).json()["text"] == ""
        assert client.post("/v1/read?model=words&colour=false", content=image).status_code == 200
        form = client.post("/v1/read", files={"image": image}, data={"colour": "false"})
        assert form.json()["text"] == ""
        assert client.post("/v1/read", files={"image": image}, data={"colour": ""}).json()[
            "text"
        ] == "Quartz"  # an empty field leaves the default  # fmt: skip
        assert client.post("/v1/read?colour=maybe", content=image).status_code == 422
    assert main(["eval", "--model", "general", "--data", str(path.parent), "--no-colour"]) == 0
    told = json.loads(capsys.readouterr().out)
    assert told["exact"] == 0.0 and told["hint"]["colour"] is False
    served: list[Any] = []  # the labelling page's pre-filled readings
    monkeypatch.setattr(ocrlab.serve.label, "serve_labels", lambda app, *_: served.append(app))
    for flags in ([], ["--no-colour"]):
        assert main(["label", str(path.parent), "--model", "general", "--port", "0", *flags]) == 0
    assert [[r.text for r in app.state.labeller.readings.values()] for app in served] == [
        ["Quartz"], [""]
    ]  # fmt: skip
