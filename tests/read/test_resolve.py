"""One resolver for every entry point: `read`, `predict`, `eval`, `export`, `train --init` and
the server all take the shipped names and paths alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import ocrlab
from ocrlab.cli import main
from ocrlab.errors import DatasetError


@pytest.fixture(scope="module")
def captchas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four rendered CAPTCHAs in a plain folder, labelled by file name."""
    folder = tmp_path_factory.mktemp("captchas")
    for i, text in enumerate(("x4bd7", "mn2p8", "c6wfy")):
        ocrlab.render(text, style="easy", seed=i).save(folder / f"{text}.png")
    return folder


def test_predict_export_and_onnx_read_by_name(
    captchas: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = sorted(str(p) for p in captchas.iterdir())
    assert main(["predict", "--model", "captcha", "--json", "--device", "cpu", *images]) == 0
    predicted = [r["text"] for r in json.loads(capsys.readouterr().out)]
    assert predicted == [ocrlab.read(p, model="captcha", device="cpu").text for p in images]
    # The letters model exported by name reads through the letter reader from its .onnx too.
    onnx = tmp_path / "letters.onnx"
    assert main(["export", "--model", "letters", "--onnx", str(onnx)]) == 0
    capsys.readouterr()
    assert main(["read", "--model", str(onnx), "--json", "--top-k", "2", *images]) == 0
    from_onnx = json.loads(capsys.readouterr().out)
    from_torch = [ocrlab.read(p, model="letters", top_k=2, device="cpu") for p in images]
    assert [r["text"] for r in from_onnx] == [r.text for r in from_torch]
    assert all(len(r["letters"]) == len(r["text"]) for r in from_onnx)


def test_eval_and_train_init_take_shipped_names(
    captchas: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--model", "captcha", "--data", str(captchas), "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == 3
    out = tmp_path / "tuned"
    args = ["train", "seq", "--data", str(captchas), "--out", str(out), "--init", "captcha"]
    args += ["--epochs", "1", "--split", "random", "--device", "cpu", "--workers", "1"]
    assert main([*args, "--set", "train.batch_size=2", "--set", "test_fraction=0.34"]) == 0
    tuned = json.loads((out / "checkpoint.json").read_text())
    assert tuned["input_size"] == [32, 128] and tuned["channels"] == 1  # the shipped model's
    assert main(["read", "--model", "no-such-model", str(captchas)]) == 2
    assert "no path and no shipped model" in capsys.readouterr().err


def test_a_tampered_checkpoint_is_refused_before_it_allocates_or_misreads(
    tmp_path: Path, tiny_line_run: Callable[[Path, str], Path]
) -> None:
    """checkpoint.json comes with the weights from wherever the folder came from."""
    run = tiny_line_run(tmp_path / "run", "abc")
    meta = run / "checkpoint.json"
    good = json.loads(meta.read_text())
    for change, said in (
        ({"charset": "ab"}, "7 outputs for 6"),  # a reading would index past the charset
        ({"model_config": {**good["model_config"], "hidden": 100_000}}, "does not fit"),
        ({"model_config": {**good["model_config"], "channels": "x"}}, "describes no model"),
    ):
        meta.write_text(json.dumps({**good, **change}))
        with pytest.raises(DatasetError, match=said):
            ocrlab.load(run)
    meta.write_text(json.dumps(good))
    assert ocrlab.load(run).checkpoint.charset == "abc"  # type: ignore[attr-defined]
