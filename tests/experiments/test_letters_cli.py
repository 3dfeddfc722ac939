"""`ocrlab train mlp`, `ocrlab experiment grid` and `ocrlab train letters-cnn`, end to end.

Each command runs on a tiny EMNIST-format folder written at test time and must write every
artefact; user mistakes must exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.data.emnist import LETTERS
from ocrlab.scratch import MLPClassifier

SEED_PARAMS = {20_410, 51_930, 103_834, 207_642, 415_258, 436_442, 470_938, 539_930}
SCORE_KEYS = {"top1", "top2", "top5", "a_to_l", "per_class"}
METRIC_KEYS = {"model", "params", "train_acc", "val_acc", "test_acc", "test", "epochs", "seconds"}


def _pngs_exist(run: Path, *names: str) -> None:
    for name in names:
        assert (run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_train_mlp_writes_every_artefact(
    emnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    argv = ["train", "mlp", "--data", str(emnist_dir), "--out", str(run), "--hidden", "16,8"]
    argv += ["--activation", "relu", "--epochs", "3", "--augment", "elastic", "--refit"]
    assert main([*argv, "--seed", "4", "--set", "lr_decay=0.9"]) == 0
    assert "test" in capsys.readouterr().out
    _pngs_exist(run, "curves.png", "confusion.png", "misclassified.png")
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= METRIC_KEYS | {"best_epoch", "seconds_per_epoch", "config"}
    assert set(metrics["test"]) >= SCORE_KEYS
    assert list(metrics["test"]["per_class"]) == list(LETTERS)
    assert metrics["test"]["top1"] <= metrics["test"]["top2"] <= metrics["test"]["top5"]
    assert metrics["config"]["hidden"] == [16, 8] and metrics["config"]["lr_decay"] == 0.9
    model = MLPClassifier.load(run / "model.npz")
    assert model.n_params_ == metrics["params"] == 784 * 16 + 16 + 16 * 8 + 8 + 8 * 26 + 26
    header = (run / "history.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc")
    assert main([*argv, "--seed", "4"]) == 2  # the folder holds a run: no silent overwrite
    assert "--overwrite" in capsys.readouterr().err


def test_grid_reproduces_the_seed_table(
    emnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "grid"
    argv = ["experiment", "grid", "--data", str(emnist_dir), "--out", str(out), "--epochs", "1"]
    assert main(argv) == 0
    rows = json.loads((out / "grid.json").read_text())["rows"]
    assert len(rows) == 34 and rows[0]["model"] == "Perceptron_sigmoid"
    assert {r["params"] for r in rows} == SEED_PARAMS | {569_498}
    table = (out / "grid.md").read_text().splitlines()
    assert table[0] == "| Model | Total Parameters | Training Set | Validation Set | Test Set |"
    assert "| NN_leakyrelu_softmax_512_64 | 436,442 |" in "\n".join(table)
    assert len(table) == 2 + 34
    assert "[34/34] NN_tanhexp_softmax_512_256_128" in capsys.readouterr().out


def test_train_letters_cnn_writes_a_loadable_checkpoint(emnist_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "cnn"
    argv = ["train", "letters-cnn", "--data", str(emnist_dir), "--out", str(run)]
    assert main([*argv, "--epochs", "1", "--width", "4", "--device", "cpu"]) == 0
    meta = json.loads((run / "checkpoint.json").read_text())
    assert meta["kind"] == "letters" and meta["model"] == "letters_cnn"
    assert meta["classes"] == list(LETTERS)
    assert meta["input_size"] == [28, 28] and meta["channels"] == 1
    assert (run / "model.safetensors").stat().st_size > 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= METRIC_KEYS and set(metrics["test"]) >= SCORE_KEYS
    _pngs_exist(run, "curves.png", "confusion.png", "misclassified.png")


def test_refit_trains_on_train_and_validation(
    emnist_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = {}
    for name, extra in (("split", []), ("refit", ["--refit"])):
        runs[name] = tmp_path / name
        argv = ["train", "letters-cnn", "--data", str(emnist_dir), "--out", str(runs[name])]
        assert main([*argv, "--epochs", "1", "--width", "4", "--device", "cpu", *extra]) == 0
    split, refit = (json.loads((runs[n] / "metrics.json").read_text()) for n in ("split", "refit"))
    parts = split["data"]
    assert refit["data"]["train"]["images"] == parts["train"]["images"] + parts["val"]["images"]
    assert refit["val_acc"] is None and split["val_acc"] is not None
    assert "validation refit on it" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--hidden", "512,abc"], "--hidden"),
        (["--hidden", "0"], "--hidden"),
        (["--activation", "softsign"], "activation must be one of"),
        (["--augment", "mixup"], "augment must be one of"),
        (["--lr", "-1"], "lr=-1"),
        (["--set", "colour=red"], "unknown MLPConfig key"),
    ],
)
def test_bad_mlp_settings_exit_2_with_one_line(
    emnist_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    needle: str,
) -> None:
    argv = ["train", "mlp", "--data", str(emnist_dir), "--out", str(tmp_path / "r"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("command", [["train", "mlp"], ["experiment", "grid"]])
def test_missing_data_folder_names_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    argv = [*command, "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "emnist-letters-train-images-idx3-ubyte.gz" in err
    assert "emnist-letters-train-subset.npz" in err


def test_unknown_grid_model_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["experiment", "grid", "--out", str(tmp_path / "g"), "--models", "NN_relu_softmax_7"]
    assert main(argv) == 2
    assert "unknown grid model" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        (
            ["train", "mlp"],
            [
                "--preset",
                "--hidden",
                "--activation",
                "--output",
                "--lr",
                "--momentum",
                "--batch",
                "--epochs",
                "--patience",
                "--lr-decay",
                "--l2",
                "--augment",
                "--refit",
            ],
        ),
        (
            ["train", "letters-cnn"],
            ["--preset", "--epochs", "--batch", "--lr", "--width", "--device", "--augment"],
        ),
        (["experiment", "grid"], ["--quick", "--epochs", "--augment", "--models"]),
    ],
)
def test_help_explains_every_option(
    capsys: pytest.CaptureFixture[str], command: list[str], flags: list[str]
) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = capsys.readouterr().out
    for flag in [*flags, "--data", "--protocol", "--out", "--seed", "--overwrite", "--set"]:
        assert flag in text, flag
