"""The CAPTCHA strength audit end to end on a tiny generated set, and its pieces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.train.audit import (
    AuditConfig,
    audit,
    breaking_points,
    confusions,
    generate,
    load_generator,
)
from ocrlab.train.finetune import FinetuneConfig


def test_audit_cli_end_to_end(tmp_path: Path, tiny_line_run: Callable[[Path, str], Path]) -> None:
    run = tiny_line_run(tmp_path / "start", "abc")
    out = tmp_path / "audit"
    args = ["audit", "--generator", "ocrlab.synth.tiles:tiles", "--out", str(out),
            "--sizes", "4", "6", "--test", "3", "--init", str(run), "--time-budget", "0.1",
            "--set", "epochs=1", "--set", "arch=small", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    result = json.loads((out / "audit.json").read_text())
    assert [p["n"] for p in result["general"]["points"]] == [4, 6]
    assert set(result["scratch"]["breaks_at"]) == {"1%", "10%", "50%", "90%"}
    assert all(p["seconds"] >= 0 for p in result["scratch"]["points"])
    assert (out / "audit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 6 |" in (out / "report.md").read_text()


def test_confusions_and_breaking_points() -> None:
    assert confusions(["a8c", "ab", "abc"], ["aBc", "abc", "abc"]) == [
        ["B", "8", 1], ["c", "", 1]
    ]  # fmt: skip
    points = [{"n": 10, "exact": 0.05}, {"n": 50, "exact": 0.6}, {"n": 100, "exact": 0.95}]
    assert breaking_points(points) == {"1%": 10, "10%": 50, "50%": 50, "90%": 100}


def test_bad_generator_and_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="cannot load generator"):
        load_generator("ocrlab.synth.tiles:nothing")
    assert main(["audit", "--out", str(tmp_path / "x")]) == 2
    assert "either --data" in capsys.readouterr().err


def test_a_stopped_audit_keeps_its_points_and_resumes(
    tmp_path: Path, tiny_line_run: Callable[[Path, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tiny_line_run(tmp_path / "start", "abc")
    out = tmp_path / "audit"
    cfg = AuditConfig((4, 6), 3, FinetuneConfig(init=str(run), minutes=0.1, epochs=1,
                                                arch="small", device="cpu"))  # fmt: skip
    lines, texts = generate(load_generator("ocrlab.synth.tiles:tiles"), 9, 0)
    # Ctrl-C once the first point is written: the second is cut short and dropped.
    stopped = audit(cfg, lines, texts, out, stop=lambda: (out / "audit.json").exists())
    assert not stopped["complete"] and [p["n"] for p in stopped["general"]["points"]] == [4]
    first = json.loads((out / "audit.json").read_text())["general"]["points"][0]
    assert not (out / "report.md").exists()

    args = ["audit", "--generator", "ocrlab.synth.tiles:tiles", "--out", str(out),
            "--sizes", "4", "6", "--test", "3", "--init", str(run), "--time-budget", "0.1",
            "--set", "epochs=1", "--set", "arch=small", "--device", "cpu"]  # fmt: skip
    assert main(args) == 2 and "--resume" in capsys.readouterr().err  # not empty: never replaced
    assert main([*args[:-4], "--set", "arch=base", "--device", "cpu", "--resume"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 0
    assert "N=4: " in capsys.readouterr().out
    done = json.loads((out / "audit.json").read_text())
    assert done["complete"] and done["general"]["points"][0] == first  # kept, not remeasured
    assert [p["n"] for p in done["scratch"]["points"]] == [4, 6]
    assert done["fill"] == done["median"] == 0 and "closed" not in (out / "report.md").read_text()
    assert "cut to its text's rows" in (out / "report.md").read_text()  # the recipe's default
    # the cleaning the lines were prepared with is recorded and said (nothing left to measure)
    cleaned = audit(cfg, lines, texts, out, resume=True, steps=cfg.finetune.steps(3, 5))
    assert (cleaned["fill"], cleaned["median"]) == (3, 5)
    assert "ink was closed by a 3-pixel square" in (out / "report.md").read_text()
    assert "the median of its 5-pixel square" in (out / "report.md").read_text()


GENERATORS = """
import numpy as np
from PIL import Image

def raises(rng):
    raise RuntimeError("boom")

def text_only(rng):
    return "abc"

def no_argument():
    return Image.new("L", (40, 20)), "ab"

def no_image(rng):
    return None, "ab"
"""


def test_a_failing_generator_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "schemes.py").write_text(GENERATORS)
    (tmp_path / "broken.py").write_text("def f(rng:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="SyntaxError"):
        load_generator("broken:f")
    for name, said in (("raises", "sample 0: RuntimeError: boom"),
                       ("text_only", "return \\(image, text\\); sample 0 is str"),
                       ("no_argument", "sample 0: TypeError"),
                       ("no_image", "sample 0 image cannot be read \\(NoneType")):  # fmt: skip
        with pytest.raises(DatasetError, match=said):
            generate(load_generator(f"schemes:{name}"), 3, 0)
