"""Ctrl-C asks training to stop and keeps what it learned; a second Ctrl-C quits at once."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ocrlab.cli.finetune as cli_finetune
from ocrlab.cli import main
from ocrlab.train.stopping import ctrl_c_stops

MakeRun = Callable[[Path, str], Path]


def test_the_first_ctrl_c_sets_the_flag_the_second_interrupts() -> None:
    before = signal.getsignal(signal.SIGINT)
    with ctrl_c_stops() as stop:
        assert not stop()
        signal.raise_signal(signal.SIGINT)
        assert stop()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_during_a_fine_tune_saves_its_best_epoch(
    tmp_path: Path,
    tiny_line_run: MakeRun,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from test_finetune import labelled_folder

    shown = cli_finetune._show

    def ctrl_c_after_epoch_1(record: dict[str, Any]) -> None:
        shown(record)
        if record["epoch"] == 1:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(cli_finetune, "_show", ctrl_c_after_epoch_1)
    run = tiny_line_run(tmp_path / "start", "ab")
    data = labelled_folder(tmp_path / "data", ["ab", "ba", "abc", "cab", "bca", "ac", "ca", "cc"])
    out = tmp_path / "tuned"
    args = ["train", "finetune", "--data", str(data), "--out", str(out), "--init", str(run),
            "--time-budget", "0", "--set", "epochs=50", "--device", "cpu"]  # fmt: skip
    assert main(args) == 130
    said = capfd.readouterr()
    assert "stopped by Ctrl-C after epoch 2" in said.out and "Ctrl-C again" in said.err
    ckpt = json.loads((out / "checkpoint.json").read_text())
    assert ckpt["metrics"]["stopped_after_epoch"] == 2  # the next step, not 48 more epochs
    assert len((out / "log.jsonl").read_text().splitlines()) == 2
