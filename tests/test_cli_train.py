"""The torch commands end to end on tiny data: train classifier → eval → predict, memorize."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.synth import PRESETS, generate

TINY = [
    "--epochs",
    "2",
    "--workers",
    "1",
    "--device",
    "cpu",
    "--set",
    "width=8",
    "--set",
    "input_height=16",
    "--set",
    "input_width=64",
    "--set",
    "train.batch_size=16",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    generate(dataclasses.replace(PRESETS["easy"], words=3), root / "easy")
    generate(dataclasses.replace(PRESETS["easy"], words=5), root / "easy5")
    return root


@pytest.fixture(scope="module")
def run(data: Path) -> Path:
    assert (
        main(
            ["train", "classifier", "--data", str(data / "easy"), "--out", str(data / "run"), *TINY]
        )
        == 0
    )
    return data / "run"


def test_eval_prints_and_writes_json(
    run: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert (
        main(
            [
                "eval",
                "--model",
                str(run),
                "--data",
                str(data / "easy"),
                "--workers",
                "1",
                "--json-out",
                str(data / "eval.json"),
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((data / "eval.json").read_text())
    assert printed["images"] == 30 and 0.0 <= printed["accuracy"] <= 1.0


def test_predict_gives_top_k_with_probabilities(
    run: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = next((data / "easy" / "images").iterdir())
    capsys.readouterr()
    assert main(["predict", "--model", str(run), str(image), "--top-k", "2", "--json"]) == 0
    (reading,) = json.loads(capsys.readouterr().out)
    assert len(reading["topk"]) == 2 and reading["text"] == reading["topk"][0]["text"]
    assert sum(t["p"] for t in reading["topk"]) <= 1.0 + 1e-6


def test_model_from_another_class_list_is_refused(
    run: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--model", str(run), "--data", str(data / "easy5"), "--workers", "1"]) == 2
    assert "it was trained on other labels" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["predict", "--model", "{data}", "{image}"], "not a trained model"),
        (["predict", "--model", "{run}", "{data}/missing.png", "--strict"], "image not found"),
        (["predict", "--model", "{run}", "{data}/easy/config.json", "--strict"], "cannot decode"),
        (["train", "classifier", "--data", "{data}/nowhere", "--out", "{data}/r2"], "not found"),
        (
            [
                "train",
                "classifier",
                "--data",
                "{data}/easy",
                "--out",
                "{data}/r3",
                "--set",
                "train.epochs=0",
            ],
            "epochs",
        ),
        (
            [
                "train",
                "classifier",
                "--data",
                "{data}/easy",
                "--out",
                "{data}/r4",
                "--set",
                "train.optimizer=adam",
            ],
            "optimizer must be one of",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    run: Path, data: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    image = next((data / "easy" / "images").iterdir())
    filled = [a.format(data=data, run=run, image=image) for a in argv]
    assert main(filled) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_memorize_writes_plot_and_report(data: Path) -> None:
    out = data / "memo"
    assert (
        main(
            [
                "experiment",
                "memorize",
                "--data",
                str(data / "easy5"),
                "--out",
                str(out),
                "--epochs",
                "2",
                "--limit",
                "40",
                "--workers",
                "1",
                "--device",
                "cpu",
                "--set",
                "width=8",
                "--set",
                "input_height=16",
                "--set",
                "input_width=64",
            ]
        )
        == 0
    )
    report = (out / "report.md").read_text()
    assert "| permuted labels |" in report and (out / "memorize.png").is_file()
    assert (out / "true" / "model.safetensors").is_file()
    assert (out / "permuted" / "model.safetensors").is_file()
