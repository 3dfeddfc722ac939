"""Per-font metrics that planning needs, measured once and cached by the font file's hash.

Planning a dataset asks each font for the advance of every character and of every adjacent pair
(kerning), the ink box of every character, and whether it has a glyph for each of them. These are
a few hundred FreeType calls per font, whatever the vocabulary size, and they never change for a
given file, size and Pillow/FreeType build: so they are kept in `$OCRLAB_CACHE/font-metrics/`
(default `~/.cache/ocrlab/font-metrics/`), one JSON file per font file hash and size, written
atomically. A cache file that does not parse, has the wrong shape, names another build, or whose
sampled value disagrees with a fresh measurement is ignored and rewritten. Imports Pillow only.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from PIL import __version__ as PIL_VERSION
from PIL import features

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.synth.fonts import load_font

CACHE_ENV = "OCRLAB_CACHE"
FORMAT = 1


def cache_dir() -> Path:
    """`$OCRLAB_CACHE/font-metrics`, else `~/.cache/ocrlab/font-metrics` (may not exist yet)."""
    root = os.environ.get(CACHE_ENV, "").strip()
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "ocrlab"
    return base / "font-metrics"


def file_hash(path: Path) -> str:
    """SHA-256 of the font file: the cache key, so a renamed copy hits and an edited file misses."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class FontMetrics:
    """One font file at one pixel size: its lengths, ink boxes and glyph checks, cached on disk."""

    def __init__(self, path: Path, size: int, cache: Path | None = None) -> None:
        self.path, self.size = path, size
        self.font = load_font(path, size)
        digest = file_hash(path)
        self.key = {
            "format": FORMAT,
            "sha256": digest,
            "size": size,
            "pillow": PIL_VERSION,
            "freetype": features.version("freetype2"),
            "layout": int(self.font.layout_engine),
        }
        self.file = None if cache is None else cache / f"{digest}-{size}.json"
        self.lengths: dict[str, float] = {}
        self.boxes: dict[str, list[int]] = {}
        self.glyphs_ok: list[str] = []
        self.dirty = False
        self._load()

    def length(self, text: str) -> float:
        """The advance of `text` in pixels, kerning included (`getlength`)."""
        if text not in self.lengths:
            self.lengths[text] = float(self.font.getlength(text))
            self.dirty = True
        return self.lengths[text]

    def box(self, text: str) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the ink of `text` relative to the baseline origin."""
        if text not in self.boxes:
            self.boxes[text] = [int(v) for v in self.font.getbbox(text, anchor="ls")]
            self.dirty = True
        left, top, right, bottom = self.boxes[text]
        return left, top, right, bottom

    def checked(self, chars: str) -> bool:
        """Whether a glyph check of a superset of `chars` passed before (a subset passes too)."""
        need = set(chars)
        return any(need <= set(ok) for ok in self.glyphs_ok)

    def mark_checked(self, chars: str) -> None:
        """Record that every one of `chars` has a glyph; keeps the few largest sets."""
        merged = [ok for ok in self.glyphs_ok if not set(ok) <= set(chars)]
        self.glyphs_ok = sorted([*merged, "".join(sorted(set(chars)))], key=len)[-4:]
        self.dirty = True

    def save(self) -> None:
        """Write what was measured, if anything new; a read-only cache folder only costs speed."""
        if self.file is None or not self.dirty:
            return
        data = {
            "key": self.key,
            "lengths": self.lengths,
            "boxes": self.boxes,
            "glyphs_ok": self.glyphs_ok,
        }
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.file, json.dumps(data, sort_keys=True).encode())
        except OSError:
            return
        self.dirty = False

    def _load(self) -> None:
        if self.file is None:
            return
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.dirty = self.file.exists()  # corrupt: rewrite it
            return
        if not self._valid(data):
            self.dirty = True
            return
        self.lengths, self.boxes, self.glyphs_ok = data["lengths"], data["boxes"], data["glyphs_ok"]

    def _valid(self, data: Any) -> bool:
        """Right build and shape, and a sampled length and box equal to fresh measurements."""
        if not isinstance(data, dict) or data.get("key") != self.key:
            return False
        lengths, boxes, ok = data.get("lengths"), data.get("boxes"), data.get("glyphs_ok")
        if not (isinstance(lengths, dict) and isinstance(boxes, dict) and isinstance(ok, list)):
            return False
        if not all(
            isinstance(v, float) and math.isfinite(v) and isinstance(k, str) and k
            for k, v in lengths.items()
        ):
            return False
        if not all(
            isinstance(k, str) and k and isinstance(v, list) and len(v) == 4
            for k, v in boxes.items()
        ) or not all(type(x) is int for v in boxes.values() for x in v):
            return False
        if not all(isinstance(s, str) for s in ok):
            return False
        for text, value in list(lengths.items())[:1]:
            if float(self.font.getlength(text)) != value:
                return False
        for text, value in list(boxes.items())[:1]:
            if [int(v) for v in self.font.getbbox(text, anchor="ls")] != value:
                return False
        return True
