"""The CAPTCHA strength audit end to end on a tiny generated set, and its pieces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrlab.cli import main
from ocrlab.errors import ConfigError
from ocrlab.train.audit import breaking_points, confusions, load_generator


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
