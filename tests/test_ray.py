"""The Ray engines on a local cluster of 2 CPUs: generation byte-identical to one process, and
batch reading with the same texts as `ocrlab read`, resumable. One cluster for the module."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import ray  # the distributed extra, which `make test` installs
from PIL import Image, ImageDraw, ImageFont

from ocrlab.cli import main
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.read.ray_read import read_ray
from ocrlab.read.resolve import load
from ocrlab.synth import GenerateConfig, generate
from ocrlab.synth.fonts import default_fonts
from ocrlab.synth.plan import make_plan
from ocrlab.synth.ray_engine import generate_ray


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.usefixtures("cluster")
def test_ray_generation_is_byte_identical_to_one_process(
    tmp_path: Path, small_hard: GenerateConfig, tree_bytes: Callable[[Path], dict[str, bytes]]
) -> None:
    packed = dataclasses.replace(small_hard, format="packed")  # 3 units: 3 Ray tasks
    one = generate(packed, tmp_path / "one-packed")
    ray_packed = generate_ray(make_plan(packed), tmp_path / "ray-packed")
    assert tree_bytes(ray_packed) == tree_bytes(one)
    flags = ["--preset", "hard", "--words", "12", "--limit", "120", "--set", "shard_size=50"]
    assert main(["generate", *flags, "--engine", "ray", "--out", str(tmp_path / "ray")]) == 0
    assert tree_bytes(tmp_path / "ray") == tree_bytes(generate(small_hard, tmp_path / "one"))


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.usefixtures("cluster")
def test_ray_reading_matches_ocrlab_read_and_resumes(
    tmp_path: Path, small_hard: GenerateConfig
) -> None:
    data = generate(dataclasses.replace(small_hard, limit=24), tmp_path / "data")
    first = sorted((data / "images").iterdir())[0]
    first.write_bytes(b"not a png")  # one bad image among good ones
    out = tmp_path / "pred.jsonl"
    args = ["read", "--engine", "ray", str(data), "--out", str(out), "--batch-size", "8"]
    assert main(args) == 1  # as `ocrlab read --out`: exit 1 when an image failed
    lines = _lines(out)
    paths = sorted(str(line["image"]) for line in lines)
    assert len(paths) == 24 and len(set(paths)) == 24
    bad = [line for line in lines if "error" in line]
    assert [Path(str(b["image"])) for b in bad] == [first]
    good = [p for p in paths if Path(p) != first]
    expected = {p: r.text for p, r in zip(good, load("default").read(
        [Path(p) for p in good], top_k=1), strict=True)}  # fmt: skip
    assert {str(line["image"]): line["text"] for line in lines if "text" in line} == expected

    kept = out.read_text(encoding="utf-8").splitlines(keepends=True)[:10]
    out.write_text("".join(kept) + kept[10 - 1][:15], encoding="utf-8")  # killed mid-line
    retried = sum("error" in line for line in kept)  # a failed image is tried again
    tally = read_ray([data], out, actors=1, batch_size=8)
    assert (tally.written, tally.skipped, tally.failed) == (14 + retried, 10 - retried, 1)
    assert sorted(str(line["image"]) for line in _lines(out)) == paths
    assert read_ray([data], out).written == 1  # only the bad image, tried again
    # The local reader resumes the file the Ray reader wrote: the same lines, the same log.
    assert main(["read", *paths, "--out", str(out)]) == 1
    assert len(_lines(out)) == 24
    strict = tmp_path / "strict.jsonl"
    assert main([*args[:3], str(first), str(data), "--out", str(strict), "--strict"]) == 2
    assert str(first) not in strict.read_text(encoding="utf-8")  # stopped at it, unwritten
    # A hint reaches every actor; a hint the model cannot take fails before Ray starts.
    told = tmp_path / "told.jsonl"
    assert read_ray([data], told, actors=1, charset="digits", length="3").written == 24
    texts = [str(line["text"]) for line in _lines(told) if "text" in line]
    assert len(texts) == 23 and all(len(t) == 3 and t.isdigit() for t in texts)
    with pytest.raises(ConfigError, match="cannot spell"):
        read_ray([data], tmp_path / "never.jsonl", charset="#")
    with pytest.raises(DatasetError, match="made with --charset 0123456789 --length 3; this"):
        read_ray([data], told, actors=1)  # its readings obey a hint this run does not give
    # Told to read grey only, the general reader does not look again at khaki ink on kraft.
    khaki = tmp_path / "khaki"
    khaki.mkdir()
    font = ImageFont.truetype(str(default_fonts()[0].path), 32)
    image = Image.new("RGB", (200, 56), (196, 150, 96))
    ImageDraw.Draw(image).text((10, 8), "Quartz", fill=(150, 160, 110), font=font)
    image.save(khaki / "Quartz.png")
    for colour, text in ((True, "Quartz"), (False, "")):
        out = tmp_path / f"khaki-{colour}.jsonl"
        assert read_ray([khaki], out, model="general", actors=1, colour=colour).written == 1
        assert [line["text"] for line in _lines(out)] == [text]
    grey = tmp_path / "khaki-cli.jsonl"
    args = ["read", "--engine", "ray", str(khaki), "--out", str(grey), "--actors", "1"]
    assert main([*args, "--no-colour"]) == 0
    assert [line["text"] for line in _lines(grey)] == [""]


def test_ray_flags_need_the_ray_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(tmp_path / "a.png"), "--actors", "2"]) == 2
    assert "--engine ray" in capsys.readouterr().err
    assert main(["read", "--engine", "ray", str(tmp_path / "a.png")]) == 2  # no --out
    assert "--out FILE.jsonl" in capsys.readouterr().err
