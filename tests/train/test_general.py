"""The general reader's trainer: a tiny CRNN on the zoo stream, read back, resumed exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from safetensors.torch import load_file

import ocrlab
from ocrlab.errors import DatasetError
from ocrlab.train import general
from ocrlab.train.general import GeneralConfig, train_general


@pytest.fixture(autouse=True)
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(general.ARCHS, "tiny", {"channels": [4, 8, 8, 8], "hidden": 8})


def _cfg(**kw: Any) -> GeneralConfig:
    base = dict(archs=("tiny",), steps=4, batch_size=4, eval_every=2, val_per_family=2,
                workers=0, fonts=("bundled",), warmup=1, device="cpu")  # fmt: skip
    return GeneralConfig(**{**base, **kw})


def test_a_run_writes_a_reader_and_resumes_to_the_same_weights(tmp_path: Path) -> None:
    train_general(_cfg(), tmp_path / "whole")
    run = tmp_path / "whole" / "tiny"
    assert (run / "checkpoint.json").is_file() and (tmp_path / "whole" / "log.jsonl").is_file()
    reading = ocrlab.read(ocrlab.render("ab12", style="easy"), model=str(run), device="cpu")
    assert isinstance(reading.text, str) and 0 <= reading.confidence <= 1

    def stop_at_two(record: dict[str, Any]) -> None:
        if record["step"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_general(_cfg(workers=1), tmp_path / "cut", log=stop_at_two)
    train_general(_cfg(), tmp_path / "cut", resume=True)  # other worker count, same batches
    whole = load_file(run / "model.safetensors")
    resumed = load_file(tmp_path / "cut" / "tiny" / "model.safetensors")
    assert whole.keys() == resumed.keys()
    assert all(bool((whole[k] == resumed[k]).all()) for k in whole)


def test_a_run_from_before_an_option_existed_resumes(tmp_path: Path) -> None:
    """A run started before `zoo.fonts` existed saved no such key; its default keeps the stream."""
    import json

    train_general(_cfg(steps=2), tmp_path / "r")
    meta = tmp_path / "r" / "tiny" / "checkpoint.json"
    saved = json.loads(meta.read_text())
    del saved["config"]["zoo"]["fonts"]
    meta.write_text(json.dumps(saved))
    train_general(_cfg(steps=2), tmp_path / "r", resume=True)  # refused as another run before


def test_resuming_another_configuration_is_refused(tmp_path: Path) -> None:
    train_general(_cfg(steps=2), tmp_path / "r")
    with pytest.raises(DatasetError, match=r"another configuration \(lr=0.001\)"):
        train_general(_cfg(steps=2, lr=0.5), tmp_path / "r", resume=True)
    with pytest.raises(DatasetError, match="not empty"):
        train_general(_cfg(steps=2), tmp_path / "r")
