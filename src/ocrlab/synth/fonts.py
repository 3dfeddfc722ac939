"""Fonts: find them, load them, and refuse any that would draw tofu boxes.

The default set is ten visually distinct TrueType faces that matplotlib ships (DejaVu, STIX,
Computer Modern), so nothing needs a manual download; a user's folder of .ttf/.otf files adds to or
replaces it. Each font is checked against every character it must draw, in both cases, before any
image is rendered: a glyph that renders exactly like the font's missing-glyph box (.notdef) is
missing. Imports NumPy and Pillow only; matplotlib is located on disk, never imported.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageFont

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


# Font pools: the training pool and the evaluation pool never share a family.
RESERVED_FAMILIES: tuple[str, ...] = (
    "liberation",
    "arimo",
    "tinos",
    "cousine",  # Liberation and its Chrome OS twins
    "freesans",
    "freeserif",
    "freemono",
    "gnu freefont",  # GNU FreeFont
    "nimbus",
    "c059",
    "p052",
    "urw",
    "z003",
    "tex gyre",
    "texgyre",
    "gsfonts",  # URW base35
    "uralic",  # fonts-uralic: URW base35 faces extended for Uralic languages
)
"""Families reserved for evaluation (lower-case name prefixes or parts): they are never in a
training pool, so a score on them is a score on faces the model never saw."""

NOT_TEXT: tuple[str, ...] = (
    "symbol",
    "dingbat",
    "d050000l",
    "math",
    "phon",
    "nushu",
    "babel",
    "ellhnikh",
    "keyboard",
    "emoji",
    "icon",
    "awesome",
    "alfa-beta",
    "smallcaps",
    "abecedario_",
    "amatic",
    "bebas",
    "humor sans",
)
"""Families whose letters are not plain Latin letters (symbols, phonetics, Greek on Latin keys,
keycaps, dotted or ruled school scripts, small caps): a reader learns wrong labels from them."""

CASE_PAIRS = "abdeghnqr"
"""Letters whose two cases differ in shape in ordinary faces."""

SYSTEM_FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
    "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts", "C:/Windows/Fonts",
)  # fmt: skip
Purpose = Literal["train", "eval", "all"]


def font_family(path: Path) -> str:
    """The family name the font file declares (its name table), e.g. 'Liberation Sans'."""
    try:
        family, _ = ImageFont.truetype(str(path), 16).getname()
    except OSError as exc:
        raise FontError(f"cannot load font {path}: {exc}") from None
    return family or path.stem


def is_reserved(family: str) -> bool:
    """True for the families kept for evaluation (`RESERVED_FAMILIES`), by name, any case."""
    name = family.lower().replace("-", " ").replace("_", " ")
    squashed = name.replace(" ", "")
    return any(r in name or r.replace(" ", "") in squashed for r in RESERVED_FAMILIES)


def caseless(font: ImageFont.FreeTypeFont) -> bool:
    """True when the font draws most letters the same in both cases (all caps, small caps, or
    lower case only): a case-sensitive reader would learn wrong labels from it. Compares the
    two glyphs of letter pairs whose cases differ in shape, scaled to one box."""
    same = 0
    for lower in CASE_PAIRS:
        a, b = font.getmask(lower, mode="L"), font.getmask(lower.upper(), mode="L")
        if min(a.size) == 0 or min(b.size) == 0:
            continue
        box = (24, 24)
        x = np.asarray(Image.frombytes("L", a.size, bytes(a)).resize(box), np.float32) > 127
        y = np.asarray(Image.frombytes("L", b.size, bytes(b)).resize(box), np.float32) > 127
        same += (x & y).sum() > 0.75 * max((x | y).sum(), 1)
    return same > len(CASE_PAIRS) // 2


def is_text(family: str) -> bool:
    """False for families whose letters are not plain Latin letters (`NOT_TEXT`)."""
    name = family.lower()
    return not any(n in name for n in NOT_TEXT)


def system_font_files() -> list[Path]:
    """Every font file the system offers: fontconfig's list where `fc-list` exists, else the usual
    folders of Linux, macOS and Windows."""
    fc = shutil.which("fc-list")
    if fc is not None:
        try:
            listing = subprocess.run(
                [fc, "--format", "%{file}\n"], capture_output=True, text=True, timeout=60
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listing = ""
        files = {Path(line) for line in listing.splitlines() if line.strip()}
        if files:
            return sorted(f for f in files if f.suffix.lower() in FONT_SUFFIXES)
    found: set[Path] = set()
    for folder in SYSTEM_FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir():
            found.update(p for p in root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    return sorted(found)


def package_font_files() -> list[Path]:
    """Font files of installed Python font packages (PyPI's `font-*`, e.g. `pip install
    ocrlab[fonts]`), which keep them inside the package."""
    found: set[Path] = set()
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if not name.startswith("font-"):
            continue
        for file in dist.files or []:
            if file.suffix.lower() in FONT_SUFFIXES:
                found.add(Path(str(dist.locate_file(file))).resolve())
    return sorted(found)


Source = Literal["bundled", "system", "packages"]


def font_pool(
    sources: Sequence[Source | str | Path] = ("bundled", "system", "packages"),
    purpose: Purpose = "train",
    chars: str = "",
    size: int = 32,
) -> list[FontSpec]:
    """Fonts from bundled files, the system, Python packages and folders, one per file name.

    `purpose="train"` drops the reserved evaluation families, `"eval"` keeps only them. Fonts that
    cannot be loaded, or lack a glyph for any of `chars`, are left out (a pool takes what it can
    use; `check_fonts` is the strict check for fonts a user names).
    """
    files: list[Path] = []
    for source in sources:
        if source == "bundled":
            files += [f.path for f in default_fonts()]
        elif source == "system":
            files += system_font_files()
        elif source == "packages":
            files += package_font_files()
        else:
            files += [f.path for f in fonts_in(Path(source))]
    pool: dict[str, FontSpec] = {}
    for path in files:
        if path.stem in pool or path.suffix.lower() == ".ttc":
            continue  # one face per name; collections hold faces we cannot name apart
        try:
            family = font_family(path)
            font = load_font(path, size)
        except FontError:
            continue
        reserved = is_reserved(family)
        if (
            not is_text(family)
            or (purpose == "train" and reserved)
            or (purpose == "eval" and not reserved)
        ):
            continue
        if chars and missing_glyphs(font, chars):
            continue
        if any(c.islower() for c in chars) and any(c.isupper() for c in chars) and caseless(font):
            continue
        pool[path.stem] = FontSpec(path.stem, path)
    return [pool[name] for name in sorted(pool)]


def pinned(pool: Sequence[FontSpec], names: Sequence[str]) -> list[FontSpec]:
    """The fonts of `pool` that `names` names, or the whole pool when it names none: a set drawn
    from named fonts is the same on every machine that has them, whatever else is installed. A
    name the pool lacks is an error, not a quietly different set."""
    if not names:
        return list(pool)
    have = {f.name: f for f in pool}
    missing = sorted({n for n in names if n not in have})
    if missing:
        raise FontError(
            f"{len(missing)} of the {len(set(names))} fonts named are not in the pool found here "
            f"(`ocrlab fonts list` shows it): {', '.join(missing[:5])}"
            + (", ..." if len(missing) > 5 else "")
        )
    return [have[n] for n in sorted(set(names))]


def pack_fonts(
    fonts: Sequence[FontSpec], out: Path, per_family: int = 3, max_file: int = 700_000,
    max_total: int = 38_000_000,
) -> list[FontSpec]:  # fmt: skip
    """Copy a pool into one folder to carry to another machine (a GPU box has no font packages):
    per family its regular, bold and italic faces first, files up to `max_file` bytes, until
    `max_total` bytes. Returns the fonts copied."""
    families: dict[str, list[FontSpec]] = {}
    for spec in fonts:
        families.setdefault(font_family(spec.path), []).append(spec)

    def rank(spec: FontSpec) -> tuple[int, int]:
        name = spec.name.lower()
        style = (0 if "regular" in name or "-" not in name else
                 1 if "bold" in name and "italic" not in name else
                 2 if "italic" in name or "oblique" in name else 3)  # fmt: skip
        return style, spec.path.stat().st_size

    out.mkdir(parents=True, exist_ok=True)
    copied, total = [], 0
    for family in sorted(families):
        for spec in sorted(families[family], key=rank)[:per_family]:
            size = spec.path.stat().st_size
            if size > max_file or total + size > max_total:
                continue
            shutil.copyfile(spec.path, out / spec.path.name)
            copied.append(FontSpec(spec.name, out / spec.path.name))
            total += size
    return copied
