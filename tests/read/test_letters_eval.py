"""The held-out evaluation set: deterministic, disjoint from every training resource, scored by
`ocrlab eval --table`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.errors import DatasetError
from ocrlab.read.evaluate import evaluate_letters, letters_table
from ocrlab.read.letters import LetterReader
from ocrlab.synth.backgrounds import TEXTURES
from ocrlab.synth.fonts import DEFAULT_FONTS
from ocrlab.synth.letters_eval import (
    EVAL_FONTS,
    SCHEMES,
    LettersEvalConfig,
    make_letters_eval,
    read_eval_manifest,
)
from ocrlab.synth.render import COLOURS

SMALL = LettersEvalConfig(letters=4, words=2, lines=1)


def test_nothing_is_shared_with_training() -> None:
    assert not set(EVAL_FONTS) & set(DEFAULT_FONTS)
    assert not {s.ink for s in SCHEMES.values()} & set(COLOURS.values())
    assert not set(SCHEMES) & set(TEXTURES)


def test_same_seed_same_bytes_other_seed_other_bytes(
    tmp_path: Path, tree_bytes: Callable[[Path], dict[str, bytes]]
) -> None:
    make_letters_eval(SMALL, tmp_path / "a")
    make_letters_eval(SMALL, tmp_path / "b")
    make_letters_eval(dataclasses.replace(SMALL, seed=1), tmp_path / "c")
    a, b, c = (tree_bytes(tmp_path / n) for n in "abc")
    assert a == b and a["images/00000.png"] != c["images/00000.png"]
    rows = read_eval_manifest(tmp_path / "a")
    assert [r["kind"] for r in rows] == ["letter"] * 4 + ["word"] * 2 + ["lines"]
    assert [r["text"] for r in rows[:4]] == list("ABCD")
    assert len(rows[-1]["text"].split()) == 4 and {r["font"] for r in rows} <= {
        Path(f).stem for f in EVAL_FONTS
    }


def test_an_existing_folder_is_not_overwritten_by_accident(tmp_path: Path) -> None:
    make_letters_eval(SMALL, tmp_path / "a")
    with pytest.raises(DatasetError, match="--overwrite"):
        make_letters_eval(SMALL, tmp_path / "a")
    make_letters_eval(SMALL, tmp_path / "a", overwrite=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DatasetError, match="not a letters-eval"):
        make_letters_eval(SMALL, tmp_path / "other", overwrite=True)


def test_scores_by_kind_with_the_naive_baseline(tmp_path: Path, templates: object) -> None:
    make_letters_eval(SMALL, tmp_path / "set")
    metrics = evaluate_letters(LetterReader(templates), tmp_path / "set", templates)  # type: ignore[arg-type]
    assert metrics["letter"]["images"] == 4 and metrics["multi"]["images"] == 3
    assert 0 <= metrics["naive_letter"]["exact"] <= metrics["letter"]["top5"] <= 1
    table = letters_table(metrics, "templates")
    assert "| single letters | 4 |" in table and 'naive resize of "Letter Recognition"' in table


def test_cli_makes_and_scores_a_set(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "set"
    args = ["data", "letters-eval", "--out", str(out), "--letters", "3", "--words", "1"]
    assert main([*args, "--lines", "0", "--seed", "2"]) == 0
    assert "wrote 4 images" in capsys.readouterr().out
    assert main(["eval", "--model", str(tiny_run), "--data", str(out), "--table"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| ") and "| words (3–6 letters) | 1 |" in table
    assert main([*args, "--lines", "0"]) == 2
    assert "--overwrite" in capsys.readouterr().err
