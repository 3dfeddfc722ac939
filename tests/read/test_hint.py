"""Hints: telling a line model the text's characters and length, through every entry point."""

from __future__ import annotations

import io
import json
import re
import string
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import ocrlab
from ocrlab.cli import main
from ocrlab.data.manifest import MANIFEST, read_manifest
from ocrlab.errors import ConfigError
from ocrlab.read.hint import Hint, hinted
from ocrlab.serve.app import create_app
from ocrlab.serve.settings import ServeSettings
from ocrlab.synth.zoo import ZooConfig
from ocrlab.synth.zoo_set import make_zoo_set


def test_hints_parse_names_characters_and_lengths() -> None:
    assert Hint.parse() is None and Hint.parse("", "") is None
    assert Hint.parse("digits") == Hint("0123456789")
    assert Hint.parse("digits+upper", 5).charset == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert Hint.parse("abca", "4-6") == Hint("abc", (4, 6))
    assert Hint.parse(None, (2, 3)) == Hint("", (2, 3))
    assert Hint.parse(length="7").lengths == (7, 7)
    assert Hint.parse("digits upper", [4, 6]) == Hint.parse("digits+upper", "4-6")  # URL's '+'
    for bad in (0, "6-4", "x", "3-", 65, True, ["4", "6"], (1, 2, 3)):
        with pytest.raises(ConfigError):
            Hint.parse(length=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="did you mean 'digits'"):
        Hint.parse("digit")  # a mistyped name, not the characters d, i, g, t
    with pytest.raises(ConfigError, match="unknown charset name 'hex'"):
        Hint.parse("digits+hex")


def _png(text: str) -> bytes:
    image = np.asarray(ocrlab.render(text, style="easy"))
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def test_a_hinted_reading_obeys_on_torch_and_onnx_and_the_shared_reader_is_untouched(
    tmp_path: Path,
) -> None:
    from ocrlab.read.onnx import export_onnx

    image = _png("HELLO")
    free = ocrlab.read(image, "general", device="cpu")
    told = ocrlab.read(image, "general", device="cpu", charset="digits", length=3)
    assert re.fullmatch(r"[0-9]{3}", told.text), told.text
    assert [c for c, _ in told.chars] == list(told.text)
    assert ocrlab.read(image, "general", device="cpu").text == free.text  # cache unchanged
    onnx = ocrlab.load(export_onnx("general", tmp_path / "general.onnx"))
    assert hinted(onnx, Hint("0123456789", (3, 3))).read([image])[0].text == told.text
    with pytest.raises(ConfigError, match="cannot spell '#'"):
        ocrlab.read(image, "general", charset="#")
    with pytest.raises(ConfigError, match="line model"):
        ocrlab.read(image, "letters", charset="digits")


def test_the_cli_and_the_server_take_hints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hello.png"
    path.write_bytes(_png("HELLO"))
    assert main(["read", str(path), "--charset", "lower", "--length", "4"]) == 0
    cli = capsys.readouterr().out.split(": ")[1].split()[0]
    assert re.fullmatch("[a-z]{4}", cli), cli
    assert main(["read", str(path), "--length", "0"]) == 2
    assert "1 <= fewest" in capsys.readouterr().err
    app = create_app({"general": "general"}, ServeSettings(device="cpu"))
    with TestClient(app) as client:
        query = client.post("/v1/read?charset=lower&length=4", content=path.read_bytes()).json()
        form = client.post(
            "/v1/read", files={"image": path.read_bytes()}, data={"charset": "lower", "length": "4"}
        ).json()
        bad = client.post("/v1/read?charset=%23", content=path.read_bytes())
    assert query["text"] == form["text"] == cli
    assert bad.status_code == 422 and "cannot spell" in bad.json()["detail"]


def test_eval_reads_told_the_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "scheme"
    data.mkdir()
    for text in ("HELLO", "WORLD", "CRNNS"):
        (data / f"{text}.png").write_bytes(_png(text))
    args = ["eval", "--model", "general", "--data", str(data), "--workers", "1"]
    assert main([*args, "--charset", "upper", "--length", "5"]) == 0
    told = json.loads(capsys.readouterr().out)
    assert told["images"] == 3
    assert told["hint"] == {
        "charset": string.ascii_uppercase, "lengths": [5, 5], "thorough": False, "colour": True
    }  # fmt: skip
    assert main([*args, "--charset", "digits", "--length", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["exact"] == 0.0  # no label is two digits
    assert main([*args[:2], "words", *args[3:], "--length", "5"]) == 2
    assert "line model" in capsys.readouterr().err


def test_eval_of_a_line_model_leaves_out_a_bad_image_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, texts in ((first, ("HELLO", "WORLD")), (second, ("CRNNS",))):
        folder.mkdir()
        for text in texts:
            (folder / f"{text}.png").write_bytes(_png(text))
    (first / "BROKEN.png").write_bytes(_png("BROKEN")[:60])  # cut off mid-file
    zoo = make_zoo_set(ZooConfig(families=("hatched", "shadowed")), 4, tmp_path / "zoo",
                       fonts=("bundled",))  # fmt: skip
    (zoo / read_manifest(zoo / MANIFEST)[0].path).write_bytes(b"")  # a hatched one, emptied
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ALL.png").write_bytes(b"")  # a folder with nothing readable in it
    data = [str(first), str(second), str(zoo), str(broken)]
    args = ["eval", "--model", "general", "--data", *data, "--workers", "1"]
    assert main(args) == 1  # measured on the rest, the bad ones named
    said = capsys.readouterr()
    metrics = json.loads(said.out)
    failed = list(metrics["failed"])
    assert metrics["images"] == 6 and failed[0] == str(first / "BROKEN.png")
    assert failed[-1] == str(broken / "ALL.png")
    assert set(metrics["by_group"]) == {"first", "second", "hatched", "shadowed"}
    assert f"error: {metrics['failed'][failed[0]]}; left out" in said.err
    assert main([*args, "--strict"]) == 2
    assert main([*args[:4], str(broken), "--workers", "1"]) == 2  # nothing at all: one line
    assert "no image of" in capsys.readouterr().err
