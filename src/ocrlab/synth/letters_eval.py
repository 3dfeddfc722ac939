"""A letter-reading evaluation set that no training set touched: `ocrlab data letters-eval`.

Single letters, short words and two-line images, drawn in fonts, ink colours and backgrounds
that no ocrlab training set uses: the fonts are matplotlib's faces outside `DEFAULT_FONTS` (or a
user's folder), the colours are not in `render.COLOURS`, the backgrounds are not in
`backgrounds.TEXTURES` — some are dark with light ink, which the naive resize of
"Letter Recognition" cannot read at all. Sample *i* draws from `make_rng(seed, SAMPLES, i)`, so the
same seed writes the same bytes. Writes `images/NNNNN.png`, `manifest.csv` (path, text, kind, font,
scheme, size), `config.json` and `preview.png`. Imports NumPy, Pillow and
`ocrlab.synth`/`ocrlab.data` only.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from ocrlab.config import to_dict
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.rng import SAMPLES, make_rng
from ocrlab.synth.fonts import (
    FontSpec,
    check_fonts,
    fonts_in,
    load_font,
    matplotlib_font_dir,
)
from ocrlab.synth.generate import encode_png
from ocrlab.synth.letters import ALPHABET, compose, draw_ink
from ocrlab.synth.preview import contact_sheet

EVAL_FONTS: tuple[str, ...] = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "cmb10.ttf",
    "cmti10.ttf",
)
"""matplotlib's faces that no training set draws with (`DEFAULT_FONTS` are the training ones)."""
MANIFEST_COLUMNS = ("path", "text", "kind", "font", "scheme", "size")
Kind = Literal["letter", "word", "lines"]
RGB = tuple[int, int, int]


def _gradient(top: RGB, bottom: RGB) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    """A vertical gradient, tilted at random, from `top` to `bottom`."""

    def make(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        t = y / max(h - 1, 1) + rng.uniform(-0.4, 0.4) * (x / max(w - 1, 1) - 0.5)
        t = np.clip(t, 0.0, 1.0)[..., None]
        lo, hi = np.array(top, np.float32), np.array(bottom, np.float32)
        return (lo + t * (hi - lo)).astype(np.uint8)

    return make


def _stripes(a: RGB, b: RGB) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    """Soft diagonal stripes between two close colours, at a random period and phase."""

    def make(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        period, phase = rng.uniform(10.0, 30.0), rng.uniform(0.0, 2 * np.pi)
        t = (0.5 + 0.5 * np.sin((x + y) * (2 * np.pi / period) + phase))[..., None]
        lo, hi = np.array(a, np.float32), np.array(b, np.float32)
        return (lo + t * (hi - lo)).astype(np.uint8)

    return make


@dataclass(frozen=True)
class Scheme:
    """An ink colour on a background, neither of which any training set uses."""

    ink: RGB
    background: Callable[[np.random.Generator, int, int], np.ndarray]


SCHEMES: dict[str, Scheme] = {
    "green-on-sky": Scheme((25, 110, 55), _gradient((185, 212, 245), (235, 245, 255))),
    "white-on-slate": Scheme((242, 242, 232), _gradient((38, 46, 60), (75, 86, 102))),
    "purple-on-lemon": Scheme((105, 40, 135), _gradient((252, 242, 170), (240, 225, 140))),
    "teal-on-blush": Scheme((0, 105, 110), _gradient((250, 218, 228), (232, 188, 205))),
    "gold-on-night": Scheme((240, 196, 48), _gradient((14, 18, 44), (40, 30, 70))),
    "plum-on-mint": Scheme((118, 28, 72), _stripes((206, 238, 214), (222, 248, 228))),
    "blue-on-sand": Scheme((40, 70, 205), _stripes((232, 222, 200), (216, 204, 180))),
}
"""Seven ink/background pairs; two put light ink on a dark ground."""


@dataclass(frozen=True)
class LettersEvalConfig:
    """How many of each kind of image, and how they vary."""

    letters: int = 520
    """Single-letter images (each of A–Z equally often)."""
    words: int = 240
    """One-line words of 3–6 letters."""
    lines: int = 60
    """Two lines of two short words each."""
    case: Literal["upper", "lower"] = "upper"
    """Letter case drawn. The letter models have EMNIST's 26 case-merged classes, and in many
    faces lower-case l is the same stroke as I: 'upper' is the set the targets are set on."""
    min_size: int = 28
    """Smallest font size in pixels."""
    max_size: int = 110
    """Largest font size in pixels."""
    tracking: tuple[float, float] = (0.04, 0.3)
    """Extra space between letters, as a fraction of the font size (low end: letters may touch;
    below 0 they often do)."""
    noise: float = 8.0
    """Largest Gaussian noise sigma, in grey levels."""
    fonts_dir: str | None = None
    """A folder of held-out .ttf/.otf fonts to use instead of `EVAL_FONTS`."""
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.letters, self.words, self.lines) < 0 or self.letters + self.words < 1:
            raise ConfigError("need letters, words, lines ≥ 0 and at least one image")
        if not 8 <= self.min_size <= self.max_size <= 400 or self.noise < 0 or self.seed < 0:
            raise ConfigError("need 8 ≤ min_size ≤ max_size ≤ 400, noise ≥ 0 and seed ≥ 0")
        if not -0.5 <= self.tracking[0] <= self.tracking[1] <= 2:
            raise ConfigError("need -0.5 ≤ tracking low ≤ tracking high ≤ 2")

    def count(self) -> int:
        return self.letters + self.words + self.lines


def eval_fonts(config: LettersEvalConfig) -> list[FontSpec]:
    """The held-out fonts: a user's folder, or `EVAL_FONTS`; each checked for A–Z in both cases."""
    if config.fonts_dir is not None:
        fonts = fonts_in(Path(config.fonts_dir))
    else:
        fonts = [FontSpec(Path(f).stem, matplotlib_font_dir() / f) for f in EVAL_FONTS]
    check_fonts(fonts, ALPHABET, 32)
    return fonts


@cache
def _words() -> list[str]:
    """Words of 3–6 letters from the English word list (web2), upper case."""
    from ocrlab.synth.vocab import english_words

    return [w.upper() for w in english_words(3, 6)]


def sample_text(
    config: LettersEvalConfig, words: list[str], i: int, rng: np.random.Generator
) -> tuple[str, Kind]:
    """The text and kind of sample `i`: letters first, then words, then two-line images."""
    if i < config.letters:
        return ALPHABET[i % 26], "letter"
    if i < config.letters + config.words:
        return words[int(rng.integers(len(words)))], "word"
    short = [w for w in words if len(w) <= 4]
    picks = [short[int(j)] for j in rng.integers(len(short), size=4)]
    return f"{picks[0]} {picks[1]}\n{picks[2]} {picks[3]}", "lines"


def render_sample(
    config: LettersEvalConfig, fonts: list[FontSpec], words: list[str], i: int
) -> tuple[np.ndarray, dict[str, str]]:
    """Sample `i` as an (H, W, 3) uint8 image and its manifest fields (all but the path)."""
    rng = make_rng(config.seed, SAMPLES, i)
    text, kind = sample_text(config, words, i, rng)
    if config.case == "lower":
        text = text.lower()
    spec = fonts[int(rng.integers(len(fonts)))]
    scheme = sorted(SCHEMES)[int(rng.integers(len(SCHEMES)))]
    size = int(rng.integers(config.min_size, config.max_size + 1))
    tracking = float(rng.uniform(*config.tracking)) * size
    alpha = draw_ink(text, load_font(spec.path, size), tracking)
    top, bottom, left, right = (int(m) for m in rng.uniform(0.15, 1.2, size=4) * size)
    h, w = alpha.shape[0] + top + bottom, alpha.shape[1] + left + right
    ink = SCHEMES[scheme].ink
    image = compose(alpha, ink, SCHEMES[scheme].background(rng, h, w), top, left)
    image += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(
        rng.uniform(0, config.noise)
    )
    fields = {"text": text.replace("\n", " "), "kind": kind, "font": spec.name, "scheme": scheme}
    return np.clip(image, 0, 255).astype(np.uint8), {**fields, "size": str(size)}


def make_letters_eval(config: LettersEvalConfig, out: Path, overwrite: bool = False) -> Path:
    """Write the evaluation set into `out` (which must be empty, or an earlier one with
    `overwrite`); returns the manifest's path."""
    _prepare(out, overwrite)
    fonts = eval_fonts(config)
    words = _words()
    (out / "images").mkdir()
    rows: list[dict[str, str]] = []
    previews: list[tuple[np.ndarray, str]] = []
    for i in range(config.count()):
        image, fields = render_sample(config, fonts, words, i)
        path = f"images/{i:05d}.png"
        atomic_write_bytes(out / path, encode_png(image))
        rows.append({"path": path, **fields})
        if len(previews) < 24 and i % max(1, config.count() // 24) == 0:
            previews.append((image, fields["text"]))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "manifest.csv", buf.getvalue().encode("utf-8"))
    description = {
        "kind": "letters-eval",
        "config": to_dict(config),
        "fonts": [f.name for f in fonts],
    }
    atomic_write_bytes(out / "config.json", (json.dumps(description, indent=1) + "\n").encode())
    _write_preview(out / "preview.png", previews)
    return out / "manifest.csv"


def _write_preview(path: Path, previews: list[tuple[np.ndarray, str]]) -> None:
    side = 160
    tiles = []
    for image, _ in previews:
        im = Image.fromarray(image)
        im.thumbnail((side, side))
        tile = Image.new("RGB", (side, side), (128, 128, 128))
        tile.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
        tiles.append(np.asarray(tile))
    sheet = contact_sheet(tiles, [t for _, t in previews], columns=6, max_tile_width=side)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()):
        marker = out / "config.json"
        ours = marker.is_file() and '"letters-eval"' in marker.read_text(encoding="utf-8")
        if not (overwrite and ours):
            why = "pass --overwrite to replace it" if ours else "it is not a letters-eval set"
            raise DatasetError(f"{out} is not empty; {why}")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def read_eval_manifest(folder: Path) -> list[dict[str, str]]:
    """The rows of a letters-eval set's manifest; DatasetError when it is not one."""
    path = folder / "manifest.csv"
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != MANIFEST_COLUMNS:
                raise DatasetError(f"{path} is not a letters-eval manifest ({MANIFEST_COLUMNS})")
            return list(reader)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
