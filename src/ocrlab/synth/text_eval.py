"""The clean-text evaluation set: dictionary-free strings in fonts no training pool may use.

Dark text on light paper, in the reserved families (Liberation, Arimo/Tinos/Cousine, GNU
FreeFont, URW base35 and its derivatives, TeX Gyre) found on this machine: a score on it is a
score on faces the general reader never saw. Two layouts, half each: a tight crop around the ink
(a few pixels of margin, the way a detector crops a word) and the same string on the 48 × 336
canvas of ocrlab's hard set at that set's text height. Two more are not drawn by default:
`turned`, the tight crop turned by 4-15 degrees either way, as a photo or a scan tilts a word, and
`page`, the string anywhere on a page 3-6 times its height and 1-8 heights wider than it, as a
word sits in a screenshot or on a form.
Sample *i* is a pure function of (seed, i).
Imports NumPy and Pillow only.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from ocrlab.config import to_dict
from ocrlab.data.manifest import Row
from ocrlab.errors import ConfigError, FontError
from ocrlab.rng import TEXT_EVAL, make_rng
from ocrlab.synth.effects.glyphs import lay_out
from ocrlab.synth.fonts import FontSpec, font_pool, load_font, pinned
from ocrlab.synth.sets import Progress, write_set

Layout = Literal["tight", "canvas", "turned", "page"]
LAYOUTS = get_args(Layout)


@dataclass(frozen=True)
class TextEvalConfig:
    """How many strings, of which letters and lengths, in which layouts."""

    count: int = 1000
    chars: str = string.ascii_letters
    min_length: int = 3
    max_length: int = 9
    layouts: tuple[Layout, ...] = ("tight", "canvas")
    font_size: int = 32
    turn: tuple[float, float] = (4.0, 15.0)
    """Least and most degrees, either way, a `turned` string is turned by: past the 3 degrees the
    zoo turns whole lines by."""
    seed: int = 0
    fonts: tuple[str, ...] = ()
    """Only these reserved fonts (names, as `ocrlab fonts list` shows them), so the set is the
    same on any machine that has them; empty: every reserved font found."""

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 1_000_000:
            raise ConfigError("count must be between 1 and 1,000,000")
        if not 1 <= self.min_length <= self.max_length <= 64:
            raise ConfigError("need 1 <= min_length <= max_length <= 64")
        if not self.layouts or any(x not in LAYOUTS for x in self.layouts):
            raise ConfigError(f"layouts must be some of {', '.join(LAYOUTS)}")
        if len(self.turn) != 2 or not 0 <= self.turn[0] <= self.turn[1] <= 45:
            raise ConfigError(f"turn is [least, most] degrees within 0-45, got {self.turn}")


CANVAS = (48, 336)


@dataclass(frozen=True)
class TextEval:
    """The set's renderer: picklable, so worker processes render any sample."""

    config: TextEvalConfig
    fonts: tuple[FontSpec, ...]

    def __call__(self, i: int) -> tuple[np.ndarray, Row]:
        cfg = self.config
        rng = make_rng(cfg.seed, TEXT_EVAL, i)
        spec = self.fonts[int(rng.integers(len(self.fonts)))]
        length = int(rng.integers(cfg.min_length, cfg.max_length + 1))
        chars = cfg.chars
        text = "".join(chars[int(k)] for k in rng.integers(len(chars), size=length))
        layout = cfg.layouts[i % len(cfg.layouts)]
        ink = lay_out(text, load_font(spec.path, cfg.font_size), rng).mask
        if layout in ("tight", "turned"):
            top, bottom, left, right = (int(v) for v in rng.integers(0, 4, 4))
            h, w = ink.shape[0] + top + bottom, ink.shape[1] + left + right
        elif layout == "page":
            h = int(ink.shape[0] * rng.uniform(3, 6))
            w = ink.shape[1] + int(ink.shape[0] * rng.uniform(1, 8))
            top = int(rng.integers(0, h - ink.shape[0] + 1))
            left = int(rng.integers(0, w - ink.shape[1] + 1))
        else:
            h, w = CANVAS
            if ink.shape[0] > h or ink.shape[1] > w:  # a long string in a wide face: shrink it
                ink = _fit(ink, h - 4, w - 4)
            top = int(rng.integers(0, h - ink.shape[0] + 1))
            left = int(rng.integers(0, w - ink.shape[1] + 1))
        alpha = np.zeros((h, w), np.float32)
        alpha[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
        if layout == "turned":
            angle = float(rng.uniform(*cfg.turn)) * float(rng.choice((-1, 1)))
            alpha = _turn(alpha, angle)
        paper, colour = rng.uniform(225, 255), rng.uniform(0, 60)
        grey = paper + alpha * (colour - paper)
        image = np.repeat(np.rint(grey).astype(np.uint8)[..., None], 3, axis=2)
        return image, Row("", text.lower(), i, text, spec.name, layout, 0.0, "dark")


def _turn(alpha: np.ndarray, degrees: float) -> np.ndarray:
    """The ink turned anticlockwise, on a canvas grown to hold it."""
    from PIL import Image

    turned = Image.fromarray(alpha).rotate(degrees, Image.Resampling.BILINEAR, expand=True)
    return np.asarray(turned, np.float32)


def _fit(ink: np.ndarray, h: int, w: int) -> np.ndarray:
    from PIL import Image

    k = min(h / ink.shape[0], w / ink.shape[1])
    size = (max(1, int(ink.shape[1] * k)), max(1, int(ink.shape[0] * k)))
    return np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BILINEAR), np.float32)


def eval_fonts(
    chars: str, folders: tuple[str, ...] = (), names: tuple[str, ...] = ()
) -> list[FontSpec]:
    """The reserved families on this machine (system fonts and `folders`) that draw `chars`;
    those `names` names, where it names any."""
    fonts = pinned(font_pool(("system", *[Path(f) for f in folders]), "eval", chars), names)
    if not fonts:
        raise FontError(
            "no reserved evaluation fonts found (Liberation, FreeFont, URW base35, TeX Gyre): "
            "install e.g. Debian's fonts-liberation fonts-freefont-ttf fonts-urw-base35"
        )
    return fonts


def make_text_eval(
    config: TextEvalConfig, out: Path, *, workers: int = 1, overwrite: bool = False,
    folders: tuple[str, ...] = (), progress: Progress | None = None,
) -> Path:  # fmt: skip
    """Write the clean-text evaluation set into `out`."""
    fonts = tuple(eval_fonts(config.chars, folders, config.fonts))
    description = {"kind": "text-eval", "config": to_dict(config), "fonts": [f.name for f in fonts]}
    return write_set(out, TextEval(config, fonts), config.count, description, workers=workers,
                     overwrite=overwrite, progress=progress)  # fmt: skip
