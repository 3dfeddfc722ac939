"""The font-metrics cache: a second plan starts at once; a bad cache file is never trusted."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from PIL import ImageFont

from ocrlab.errors import FontError
from ocrlab.synth import PRESETS
from ocrlab.synth.fonts import matplotlib_font_dir
from ocrlab.synth.metrics import cache_dir
from ocrlab.synth.plan import make_plan

CFG = dataclasses.replace(PRESETS["easy"], words=40)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OCRLAB_CACHE", str(tmp_path))
    return cache_dir()


def count_getlength(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = ImageFont.FreeTypeFont.getlength

    def counted(self: ImageFont.FreeTypeFont, text: str, *args: object, **kw: object) -> float:
        calls.append(text)
        return original(self, text, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ImageFont.FreeTypeFont, "getlength", counted)
    return calls


def test_second_plan_reads_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = count_getlength(monkeypatch)
    first = make_plan(CFG)
    cold = len(calls)
    assert len(list(cache.glob("*-32.json"))) == 10 and cold > 300
    calls.clear()
    second = make_plan(CFG)
    assert len(calls) == 10  # one spot check per font, nothing else
    assert second.canvas == first.canvas


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong value", "wrong type"])
def test_a_bad_cache_file_is_ignored_and_rewritten(cache: Path, damage: str) -> None:
    canvas = make_plan(CFG).canvas
    files = sorted(cache.glob("*.json"))
    good = [json.loads(f.read_text()) for f in files]
    for f in files:
        text = f.read_text()
        data = json.loads(text)
        first = next(iter(data["lengths"]))
        if damage == "garbage":
            f.write_bytes(b"\x00\xff not json")
        elif damage == "truncated":
            f.write_text(text[: len(text) // 2])
        elif damage == "wrong value":
            data["lengths"][first] += 7.0
            f.write_text(json.dumps(data))
        else:
            data["boxes"] = {"a": "not a box"}
            f.write_text(json.dumps(data))
    assert make_plan(CFG).canvas == canvas
    rewritten = [json.loads(f.read_text()) for f in files]
    for before, after in zip(good, rewritten, strict=True):
        assert after["key"] == before["key"] and after["lengths"] == before["lengths"]


def test_a_failed_glyph_check_is_not_cached(cache: Path, tmp_path: Path) -> None:
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / "boxes.ttf").symlink_to(matplotlib_font_dir() / "LastResortHE-Regular.ttf")
    cfg = dataclasses.replace(CFG, fonts_dir=str(folder))
    for _ in range(2):
        with pytest.raises(FontError, match=r"boxes .* has no glyph for"):
            make_plan(cfg)
    checked = [json.loads(f.read_text())["glyphs_ok"] for f in cache.glob("*.json")]
    assert len(checked) == 10 and all(checked)  # the bundled fonts' passes were kept
