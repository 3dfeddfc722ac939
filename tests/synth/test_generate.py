from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ocrlab.data.manifest import read_manifest
from ocrlab.data.packed import PackedImages
from ocrlab.errors import DatasetError
from ocrlab.synth import PRESETS, GenerateConfig, generate
from ocrlab.synth.generate import MARKER
from ocrlab.synth.plan import make_plan

Tree = Callable[[Path], dict[str, bytes]]


def test_easy_set_is_every_word_in_every_font(tmp_path: Path) -> None:
    cfg = dataclasses.replace(PRESETS["easy"], words=7)
    rows = read_manifest(generate(cfg, tmp_path / "easy") / "manifest.csv")
    assert len(rows) == 7 * 10
    assert {(r.word, r.font) for r in rows} == {
        (r.word, f) for r in rows for f in {x.font for x in rows}
    }
    assert all(r.text == r.word and r.background == "plain" and r.noise == 0 for r in rows)
    vocab = json.loads((tmp_path / "easy" / "vocab.json").read_text())["words"]
    assert all(vocab[r.label] == r.word for r in rows)


def test_hard_grid_is_full_product_and_labels_stay_the_word(tmp_path: Path) -> None:
    cfg = dataclasses.replace(PRESETS["hard"], words=2, format="packed")
    rows = read_manifest(generate(cfg, tmp_path / "hard") / "manifest.csv")
    assert len(rows) == 4 * 5 * 5 * 2 * 10
    assert len({(r.background, r.noise, r.colour, r.word, r.font) for r in rows}) == len(rows)
    assert all(r.text.lower() == r.word for r in rows)
    uppers = sum(c.isupper() for r in rows for c in r.text) / sum(len(r.text) for r in rows)
    assert 0.4 < uppers < 0.6
    assert len({r.font for r in rows}) == 10


def test_default_sizes_are_the_seeds() -> None:
    assert len(make_plan(PRESETS["hard"]).ids) == 100_000
    assert len(make_plan(PRESETS["easy"]).ids) == 1_000


def test_canvas_is_shared_by_easy_and_hard_sets(tmp_path: Path) -> None:
    easy = generate(dataclasses.replace(PRESETS["easy"], words=20), tmp_path / "e")
    hard = generate(dataclasses.replace(PRESETS["hard"], words=20, limit=10), tmp_path / "h")
    sizes = set()
    for path in [*(easy / "images").iterdir(), *(hard / "images").iterdir()]:
        with Image.open(path) as im:
            sizes.add(im.size)
    assert len(sizes) == 1


@pytest.mark.parametrize("fmt", ["png", "packed"])
def test_same_bytes_for_any_worker_count(
    tmp_path: Path, small_hard: GenerateConfig, tree_bytes: Tree, fmt: str
) -> None:
    cfg = dataclasses.replace(small_hard, format=fmt)  # type: ignore[arg-type]
    trees = [tree_bytes(generate(cfg, tmp_path / f"w{w}", workers=w)) for w in (1, 2, 3)]
    assert trees[0] == trees[1] == trees[2]
    assert "manifest.csv" in trees[0] and "preview.png" in trees[0]


def test_seed_changes_the_images(
    tmp_path: Path, small_hard: GenerateConfig, tree_bytes: Tree
) -> None:
    a = tree_bytes(generate(small_hard, tmp_path / "a"))
    b = tree_bytes(generate(dataclasses.replace(small_hard, seed=1), tmp_path / "b"))
    assert a["manifest.csv"] != b["manifest.csv"] and a["preview.png"] != b["preview.png"]


def test_packed_matches_png(tmp_path: Path, small_hard: GenerateConfig) -> None:
    png = generate(small_hard, tmp_path / "png")
    packed = generate(dataclasses.replace(small_hard, format="packed"), tmp_path / "packed")
    png_rows, packed_rows = (
        read_manifest(png / "manifest.csv"),
        read_manifest(packed / "manifest.csv"),
    )
    assert [r.text for r in png_rows] == [r.text for r in packed_rows]
    images = PackedImages(packed, [r.path for r in packed_rows])
    assert len(images) == len(png_rows) == 120
    for k in (0, 49, 50, 119):
        with Image.open(png / png_rows[k].path) as im:
            assert np.array_equal(images[k], np.asarray(im))
    assert images.batch([3, 1]).shape == (2, *images.shape)


def test_refuses_non_empty_output_and_foreign_overwrite(
    tmp_path: Path, small_hard: GenerateConfig
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="not empty"):
        generate(small_hard, out)
    with pytest.raises(DatasetError, match="not an ocrlab dataset"):
        generate(small_hard, out, overwrite=True)
    assert (out / "precious.txt").read_text() == "keep me"


def test_overwrite_replaces_an_ocrlab_dataset(tmp_path: Path, small_hard: GenerateConfig) -> None:
    out = generate(small_hard, tmp_path / "out")
    (out / "images" / "stale.png").write_bytes(b"")
    generate(small_hard, out, overwrite=True)
    assert not (out / "images" / "stale.png").exists()


def test_complete_dataset_cannot_be_resumed_and_other_config_cannot_resume(
    tmp_path: Path, small_hard: GenerateConfig
) -> None:
    out = generate(small_hard, tmp_path / "out")
    with pytest.raises(DatasetError, match="already a complete dataset"):
        generate(small_hard, out, resume=True)
    (out / MARKER).touch()
    with pytest.raises(DatasetError, match="different configuration"):
        generate(dataclasses.replace(small_hard, seed=5), out, resume=True)


def test_unwritable_output_leaves_nothing(tmp_path: Path, small_hard: GenerateConfig) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatasetError, match="cannot write"):
        generate(small_hard, blocker / "out")
    with pytest.raises(DatasetError, match="not a folder"):
        generate(small_hard, blocker)


def _kill_midway(cmd: list[str], out: Path, pattern: str, at_least: int) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list(out.glob(pattern))) < at_least:
        assert proc.poll() is None, "the run finished before it could be killed"
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "pattern"), [("png", "images/*.png"), ("packed", "shards/*.npy")])
def test_resume_after_kill_gives_the_same_dataset(
    tmp_path: Path, tree_bytes: Tree, fmt: str, pattern: str
) -> None:
    args = [
        "generate",
        "--preset",
        "hard",
        "--limit",
        "1200",
        "--format",
        fmt,
        "--workers",
        "1",
        "--set",
        "shard_size=100",
    ]
    out = tmp_path / "killed"
    _kill_midway([sys.executable, "-m", "ocrlab.cli", *args, "--out", str(out)], out, pattern, 3)
    assert (out / MARKER).exists() and not (out / "manifest.csv").exists()
    from ocrlab.cli import main

    assert main([*args, "--out", str(out), "--resume"]) == 0
    assert main([*args, "--out", str(tmp_path / "clean")]) == 0
    assert tree_bytes(out) == tree_bytes(tmp_path / "clean")


def test_cli_plans_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ocrlab.cli import main
    from ocrlab.synth import plan as plan_module

    generate_module = sys.modules["ocrlab.synth.generate"]  # the package exports the function

    calls = []
    real = plan_module.make_plan

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "make_plan", counted)
    monkeypatch.setattr(generate_module, "make_plan", counted)
    out = ["--out", str(tmp_path / "d"), "--workers", "1"]
    assert main(["generate", "--preset", "hard", "--words", "3", "--limit", "9", *out]) == 0
    assert len(calls) == 1


def test_workers_get_the_plan_instead_of_planning_again(
    tmp_path: Path, small_hard: GenerateConfig, tree_bytes: Tree
) -> None:
    doc = tmp_path / "words.txt"
    doc.write_text("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike")
    plan = make_plan(dataclasses.replace(small_hard, vocab=str(doc)))
    doc.unlink()  # a worker that planned again could not read the vocabulary
    two = tree_bytes(generate(plan, tmp_path / "w2", workers=2))
    assert two == tree_bytes(generate(plan, tmp_path / "w1", workers=1))
