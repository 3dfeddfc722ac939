"""Fonts: find them, load them, and refuse any that would draw tofu boxes.

The default set is ten visually distinct TrueType faces that matplotlib ships (DejaVu, STIX,
Computer Modern), so nothing needs a manual download; a user's folder of .ttf/.otf files adds to or
replaces it. Each font is checked against every character it must draw, in both cases, before any
image is rendered: a glyph that renders exactly like the font's missing-glyph box (.notdef) is
missing. Imports NumPy and Pillow only; matplotlib is located on disk, never imported.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import ImageFont

from ocrlab.errors import FontError

DEFAULT_FONTS: tuple[str, ...] = (
    "DejaVuSans.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBolIta.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
)
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# A code point no text font maps: it always renders as the font's .notdef glyph.
_UNMAPPED = "\U0010fffd"
# Distinct characters may share a glyph (l, I and 1 in some faces); more than this many is a box.
MAX_SHARED_GLYPH = 3


@dataclass(frozen=True)
class FontSpec:
    """A font file and the name datasets record for it."""

    name: str
    path: Path


def matplotlib_font_dir() -> Path:
    """The folder of TrueType fonts inside the installed matplotlib package."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontError("matplotlib is not installed, so its bundled fonts cannot be used")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def default_fonts() -> list[FontSpec]:
    """The ten bundled fonts, in a fixed order."""
    folder = matplotlib_font_dir()
    return [FontSpec(Path(f).stem, folder / f) for f in DEFAULT_FONTS]


def fonts_in(folder: Path) -> list[FontSpec]:
    """Every font file in `folder`, sorted by name so the order never depends on the file system."""
    if not folder.is_dir():
        raise FontError(f"font folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
    if not files:
        raise FontError(f"no .ttf, .otf or .ttc fonts in {folder}")
    return [FontSpec(p.stem, p) for p in files]


def resolve_fonts(folder: Path | None = None, *, with_defaults: bool = True) -> list[FontSpec]:
    """Bundled fonts, plus (or only, when `with_defaults` is False) the fonts of a user folder."""
    fonts = default_fonts() if with_defaults or folder is None else []
    if folder is not None:
        fonts += fonts_in(folder)
    names = [f.name for f in fonts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise FontError(f"two fonts share the name(s) {dupes}; rename one of the files")
    return fonts


@cache
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font at `size` pixels; cached, as workers draw thousands of words with it."""
    if not path.is_file():
        raise FontError(f"font file not found: {path}")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError as exc:
        raise FontError(f"cannot load font {path}: {exc}") from None


def missing_glyphs(font: ImageFont.FreeTypeFont, chars: Iterable[str]) -> list[str]:
    """Characters `font` cannot draw: they render as its .notdef box, as nothing, or as a box
    shared with more than three other letters (a "last resort" font maps everything to boxes)."""
    tofu = _glyph_key(font, _UNMAPPED)
    keys = {ch: _glyph_key(font, ch) for ch in sorted(set(chars) - {" "})}
    sharing = Counter(keys[ch] for ch in keys if ch == ch.lower())
    return [
        ch
        for ch, key in keys.items()
        if key == tofu or not any(key[2]) or sharing[key] > MAX_SHARED_GLYPH
    ]


def _glyph_key(font: ImageFont.FreeTypeFont, ch: str) -> tuple[int, int, bytes]:
    mask = font.getmask(ch, mode="L")
    return mask.size[0], mask.size[1], bytes(np.asarray(mask, dtype=np.uint8))


def check_fonts(fonts: Sequence[FontSpec], chars: Iterable[str], size: int) -> None:
    """Raise FontError naming every font that lacks a glyph for any of `chars` (both cases)."""
    needed = {c for ch in chars for c in (ch, ch.upper(), ch.lower())}
    problems = []
    for spec in fonts:
        missing = missing_glyphs(load_font(spec.path, size), needed)
        if missing:
            problems.append(f"{spec.name} ({spec.path}) has no glyph for {''.join(missing)!r}")
    if problems:
        raise FontError("; ".join(problems) + "; remove those fonts or those characters")
