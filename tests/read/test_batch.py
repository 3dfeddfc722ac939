"""Batch commands keep going: one unreadable image is one error line (or JSON object), every other
image is read, the exit status is 1; --strict stops at the first (exit 2); --out resumes."""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from ocrlab.cli import main
from ocrlab.errors import DatasetError, ImageError
from ocrlab.models import build
from ocrlab.read.batch import ResultLog, read_each, read_or_refuse, reader_settings
from ocrlab.read.hint import Hint
from ocrlab.runtime import checkpoint

Draw = Callable[..., np.ndarray]


@pytest.fixture
def images(tmp_path: Path, draw: Draw) -> list[str]:
    """good1, truncated, good2: a truncated PNG between two readable ones."""
    for name, text in (("good1", "AB"), ("good2", "CD")):
        Image.fromarray(draw(text)).save(tmp_path / f"{name}.png")
    whole = (tmp_path / "good1.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(whole[: len(whole) // 2])
    return [str(tmp_path / n) for n in ("good1.png", "truncated.png", "good2.png")]


def test_read_reports_the_bad_image_and_reads_the_others(
    tiny_run: Path, images: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["read", *images, "--model", str(tiny_run)]) == 1
    out, err = capsys.readouterr()
    assert [line.split(":")[0] for line in out.splitlines()] == [images[0], images[2]]
    expected = f"ocrlab: error: cannot decode {images[1]}: image file is truncated"
    assert err.splitlines() == [expected]
    assert main(["read", *images, "--model", str(tiny_run), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in rows] == images
    assert "text" in rows[0] and "text" in rows[2] and set(rows[1]) == {"image", "error"}


def test_strict_stops_at_the_first_bad_image(
    tiny_run: Path, images: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("read", "predict"):
        assert main([command, *images, "--model", str(tiny_run), "--strict"]) == 2
        out, err = capsys.readouterr()
        assert images[2] not in out and "truncated" in err and err.count("\n") == 1


def test_predict_keeps_going_too(
    tiny_run: Path, images: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict", *images, "--model", str(tiny_run), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert ["error" in r for r in rows] == [False, True, False]
    assert main(["predict", images[0], images[2], "--model", str(tiny_run)]) == 0


def test_out_streams_jsonl_and_a_rerun_skips_what_is_there(
    tiny_run: Path, images: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.jsonl"
    assert main(["read", *images[:2], "--model", str(tiny_run), "--out", str(out)]) == 1
    first = out.read_bytes()
    with out.open("ab") as fh:
        fh.write(b'{"image": "torn')  # a run killed mid-line
    capsys.readouterr()
    assert main(["read", *images, "--model", str(tiny_run), "--out", str(out)]) == 1
    assert "2 result(s)" in capsys.readouterr().err  # the failed one is tried again
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert out.read_bytes().startswith(first.splitlines(keepends=True)[0])
    assert [r["image"] for r in rows] == [images[0], images[1], images[2]]
    assert ["error" in r for r in rows] == [False, True, False]
    shutil.copy(images[0], images[1])  # the bad image, fixed
    assert main(["read", *images, "--model", str(tiny_run), "--out", str(out)]) == 0
    said = capsys.readouterr().err
    assert "wrote 1 result(s)" in said and "0 image(s) failed" in said
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["image"] for r in rows] == [images[0], images[2], images[1]]
    assert not any("error" in r for r in rows)


def test_a_rerun_knows_its_images_however_their_folder_is_named(
    tiny_run: Path,
    images: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "results.jsonl"
    monkeypatch.chdir(tmp_path)
    shutil.copy(images[0], images[1])
    assert main(["read", ".", "--model", str(tiny_run), "--out", str(out)]) == 0
    for named in (str(tmp_path), f"../{tmp_path.name}", "./"):
        capsys.readouterr()
        assert main(["read", named, "--model", str(tiny_run), "--out", str(out)]) == 0
        assert "wrote 0 result(s) to" in capsys.readouterr().err, named
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_read_takes_a_folder(
    tiny_run: Path, images: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder is its images, sorted (100,000 of them overflow a shell's `*.png`)."""
    assert main(["read", str(tmp_path), "--model", str(tiny_run), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in rows] == sorted(images)
    assert ["error" in r for r in rows] == [False, False, True]  # good1, good2, truncated
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(tmp_path / "empty"), "--model", str(tiny_run)]) == 2
    assert "holds no images" in capsys.readouterr().err


def test_read_each_reads_in_chunks_and_splits_only_a_chunk_with_a_bad_image() -> None:
    calls: list[int] = []

    def read(paths: list[Path]) -> list[str]:
        calls.append(len(paths))
        if any(p.name == "bad" for p in paths):
            raise ImageError("cannot decode bad")
        return [p.name for p in paths]

    names = ["a", "b", "bad", "c", "d"]
    outcomes = list(read_each(read, names, chunk=2))
    assert [o.reading for o in outcomes] == ["a", "b", None, "c", "d"]
    assert outcomes[2].error == "cannot decode bad" and calls == [2, 2, 1, 1, 1]
    calls.clear()
    names = [f"n{i}" for i in range(8)]
    names[5] = "bad"
    outcomes = list(read_each(read, names, chunk=8))
    assert [o.error is not None for o in outcomes] == [i == 5 for i in range(8)]
    assert calls == [8, 4, 4, 2, 1, 1, 2]  # halves down to the bad image only
    with pytest.raises(ImageError):
        list(read_each(read, names, strict=True, chunk=2))


def test_read_or_refuse_puts_each_refusal_in_its_place_whatever_the_reader_returns() -> None:
    def lazy(items: list[str]) -> Iterator[str]:  # refuses part-way, after yielding some
        for item in items:
            if item == "bad":
                raise ImageError("cannot decode bad")
            yield item.upper()

    got = list(read_or_refuse(lazy, ["a", "b", "bad", "c"]))
    assert got[:2] + got[3:] == ["A", "B", "C"] and isinstance(got[2], ImageError)
    with pytest.raises(ValueError, match="2 results for 3 images"):
        list(read_or_refuse(lambda items: items[:2], ["a", "b", "c"]))


def _classifier_run(root: Path, classes: list[str]) -> Path:
    """An untrained width-4 ResNet classifier over `classes` at 16 x 48: enough for eval's paths."""
    run = root / "run"
    run.mkdir()
    torch.manual_seed(0)
    config = {"num_classes": len(classes), "in_channels": 3, "width": 4, "dropout": 0.0}
    checkpoint.save_weights(run / checkpoint.WEIGHTS, build("resnet18", **config))
    ckpt = checkpoint.Checkpoint(
        "classifier", "resnet18", config, (16, 48), channels=3, classes=classes
    )
    checkpoint.save_checkpoint(run, ckpt)
    return run


def test_eval_leaves_out_a_bad_image_and_exits_1(
    tmp_path: Path, draw: Draw, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    words = ["ab", "cd", "ef", "gh"]
    for word in words:
        Image.fromarray(draw(word.upper())).save(data / f"{word}.png")
    (data / "cd.png").write_bytes((data / "cd.png").read_bytes()[:100])
    run = _classifier_run(tmp_path, words)
    args = ["eval", "--model", str(run), "--data", str(data), "--workers", "1"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    metrics = json.loads(out)
    bad = str(data / "cd.png")
    assert metrics["images"] == 3 and list(metrics["failed"]) == [bad]
    assert metrics["failed"][bad].startswith(f"cannot decode {bad}: ")  # why, not only which
    assert err.splitlines() == [f"ocrlab: error: {metrics['failed'][bad]}; left out"]
    assert main([*args, "--strict"]) == 2
    assert "cd.png" in capsys.readouterr().err
    (data / "cd.png").unlink()
    assert main(args) == 0 and "failed" not in json.loads(capsys.readouterr().out)
    assert np.isfinite(metrics["accuracy"])


def test_a_rerun_on_some_images_keeps_the_errors_of_the_others(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text('{"image": "a", "error": "bad"}\n{"image": "b", "error": "bad"}\n'
                   '{"image": "c", "text": "x"}\n')  # fmt: skip
    with ResultLog(out, reader_settings("default"), ["a", "c"]) as log:  # a tried again, c done
        assert [log.holds(x) for x in "abc"] == [False, True, True]
        assert [log.failed_on(x) for x in "abc"] == [False, True, False]
    assert [json.loads(line)["image"] for line in out.read_text().splitlines()] == ["b", "c"]


def test_out_refuses_a_file_another_model_or_hint_read(
    tiny_run: Path,
    images: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Skipping the images of a file read otherwise would hand back another reader's readings."""
    out = tmp_path / "results.jsonl"
    good = [images[0], images[2]]
    assert main(["read", *good, "--model", str(tiny_run), "--out", str(out)]) == 0
    first = out.read_bytes()
    settings = json.loads((tmp_path / "results.jsonl.reader.json").read_text(encoding="utf-8"))
    assert settings == {"model": str(tiny_run.resolve()), "top_k": 1, "lines": False, "hint": None}
    flags = ["--model", str(tiny_run), "--out", str(out)]
    assert main(["read", *good, *flags, "--no-colour"]) == 0  # a letters model never looks
    capsys.readouterr()
    assert main(["read", *good, "--model", str(tiny_run), "--out", str(out), "--top-k", "2"]) == 2
    err = capsys.readouterr().err
    assert "results.jsonl holds readings made with --top-k 1; this run reads with --top-k 2" in err
    assert (
        main(["predict", *good, "--model", str(tiny_run), "--out", str(out), "--top-k", "2"]) == 2
    )
    assert out.read_bytes() == first  # refused before anything was written
    monkeypatch.chdir(tiny_run.parent)  # the same model by a relative path resumes
    assert main(["read", *good, "--model", tiny_run.name, "--out", str(out)]) == 0
    assert "wrote 0 result(s)" in capsys.readouterr().err
    with pytest.raises(DatasetError, match=r"--model .*; this run reads with --model"):
        ResultLog(out, reader_settings("default"))
    (tmp_path / "results.jsonl.reader.json").unlink()  # a file from before settings were kept
    with ResultLog(out, reader_settings("general", hint=Hint.parse(thorough=True))) as log:
        assert all(map(log.holds, good)) and not log.holds(images[1])
    told = reader_settings("default", hint=Hint.parse(thorough=True))
    ResultLog(out, told).close()  # 'default' is 'general'
    assert json.loads((tmp_path / "results.jsonl.reader.json").read_bytes())["hint"] == {
        "charset": "", "lengths": None, "thorough": True, "colour": True}  # fmt: skip
    with pytest.raises(DatasetError, match="no --lines; this run reads with --lines"):
        ResultLog(out, {**told, "lines": True})
    other = reader_settings("default", hint=Hint.parse("digits", "5", False, False))
    with pytest.raises(DatasetError, match="made with --thorough; this run reads with --charset "
                       "0123456789 --length 5 --no-colour: give"):  # fmt: skip
        ResultLog(out, other)
    for torn in ("{torn", "[]"):
        (tmp_path / "results.jsonl.reader.json").write_text(torn, encoding="utf-8")
        with pytest.raises(DatasetError, match="not a reader's settings"):
            ResultLog(out, told)
    out.write_bytes(b'{"image": "to')  # no reading yet: any reader may start it
    ResultLog(out, reader_settings("words")).close()
    assert json.loads((tmp_path / "results.jsonl.reader.json").read_bytes())["model"] == "words"


def test_settings_name_what_changes_a_reading_and_are_written_with_the_results(
    tmp_path: Path,
) -> None:
    digits_upper = reader_settings("general", hint=Hint.parse("digits+upper", 5))
    assert digits_upper == reader_settings("default", hint=Hint.parse("upper+digits", "5"))
    (tmp_path / "notes.jsonl").write_text("not results\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="not a results file"):
        ResultLog(tmp_path / "notes.jsonl", digits_upper)
    with pytest.raises(DatasetError, match=r"cannot write .*nowhere[/\\]r\.jsonl:"):
        ResultLog(tmp_path / "nowhere" / "r.jsonl", digits_upper)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.jsonl"]  # no settings left


def test_out_counts_each_image_on_a_progress_bar(
    tiny_run: Path, images: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    counts: list[int | None] = []

    class Bar:  # tqdm's part that `--out` uses (tqdm draws nothing off a terminal)
        def __init__(self, total: int | None, desc: str) -> None:
            counts.append(total)

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def update(self, n: int) -> None:
            counts.append(n)

        def write(self, line: str, file: Any) -> None:
            print(line, file=file)

    monkeypatch.setattr(importlib.import_module("ocrlab.cli._batch"), "_progress_bar", Bar)
    out = tmp_path / "results.jsonl"
    assert main(["read", *images, "--model", str(tiny_run), "--out", str(out)]) == 1
    assert counts == [3, 1, 1, 1]
    assert "truncated.png" in capsys.readouterr().err  # the error line, above the bar
