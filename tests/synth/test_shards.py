"""`--shard K/N` + `ocrlab data merge`: parts rendered anywhere join into the one-process bytes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.synth import GenerateConfig, generate
from ocrlab.synth.shards import generate_part, merge, parse_shard

Tree = Callable[[Path], dict[str, bytes]]


@pytest.mark.parametrize("fmt", ["png", "packed"])
def test_parts_merge_into_the_bytes_of_one_process(
    tmp_path: Path, small_hard: GenerateConfig, tree_bytes: Tree, fmt: str
) -> None:
    cfg = dataclasses.replace(small_hard, format=fmt)  # 120 images in units of 50: 50, 50, 20
    one = generate(cfg, tmp_path / "one")
    parts = [generate_part(cfg, tmp_path / f"part{k}", (k, 2)) for k in (1, 0)]
    assert not (parts[0] / "manifest.csv").exists()  # a part is not a dataset
    merged = merge(parts, tmp_path / "merged")
    assert tree_bytes(merged) == tree_bytes(one)


def test_merge_refuses_missing_or_foreign_parts(tmp_path: Path, small_hard: GenerateConfig) -> None:
    parts = [generate_part(small_hard, tmp_path / f"p{k}", (k, 3)) for k in range(3)]
    with pytest.raises(DatasetError, match="exactly once"):
        merge(parts[:2], tmp_path / "out")
    other = generate_part(dataclasses.replace(small_hard, seed=9), tmp_path / "o", (2, 3))
    with pytest.raises(DatasetError, match="different datasets"):
        merge([*parts[:2], other], tmp_path / "out")
    with pytest.raises(DatasetError, match="not a finished part"):
        merge([tmp_path / "p0", tmp_path], tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", ["2/2", "1", "a/b", "-1/3"])
def test_shard_flag_is_checked(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_shard(bad)


def test_cli_shards_and_merges(tmp_path: Path, tree_bytes: Tree) -> None:
    flags = ["generate", "--preset", "hard", "--words", "6", "--limit", "30", "--set",
             "shard_size=10", "--workers", "1"]  # fmt: skip
    assert main([*flags, "--out", str(tmp_path / "one")]) == 0
    for k in range(3):
        assert main([*flags, "--shard", f"{k}/3", "--out", str(tmp_path / f"p{k}")]) == 0
    parts = [str(tmp_path / f"p{k}") for k in range(3)]
    assert main([*flags, "--shard", "0/3", "--out", parts[0], "--resume"]) == 0  # a rerun job
    assert main([*flags, "--shard", "1/3", "--out", parts[0], "--resume"]) == 2  # another part
    assert main(["data", "merge", *parts, "--out", str(tmp_path / "merged")]) == 0
    assert tree_bytes(tmp_path / "merged") == tree_bytes(tmp_path / "one")
    assert main([*flags, "--shard", "3/3", "--out", str(tmp_path / "x")]) == 2


@pytest.mark.parametrize("flag", [["--shard", "0/2"], ["--engine", "ray"]])
def test_zoo_preset_refuses_shards_and_ray(
    tmp_path: Path, flag: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["generate", "--preset", "zoo", "--limit", "4", *flag, "--out", str(tmp_path / "z")]
    assert main(args) == 2
    assert "zoo preset renders on this machine only" in capsys.readouterr().err
    assert not (tmp_path / "z").exists()
