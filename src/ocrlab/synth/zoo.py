"""The CAPTCHA zoo: families of effects mixed into a stream of labelled images of any shape.

A family says which effects a sample may draw and how hard; a sample is a pure function of
(seed, index): its text (random strings over a charset, or English words in any casing), font,
family, size, colours and every effect come from `make_rng(seed, ZOO, index)`. Two families are
held out: their signature effects (hatching, salt and pepper, drop shadows) never appear in the
training families, so scores on them measure effects the general reader never saw.
Imports NumPy and Pillow only.
"""

from __future__ import annotations

import string
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from ocrlab.errors import ConfigError, DatasetError
from ocrlab.rng import TEXTURES, ZOO, make_rng
from ocrlab.synth import backgrounds
from ocrlab.synth.effects import camera, clutter, ink, paper, warp
from ocrlab.synth.effects.glyphs import PLAIN, Layout, lay_out
from ocrlab.synth.fonts import FontSpec, Source, font_pool, load_font, pinned

Effect = Callable[[np.ndarray, np.random.Generator, float, np.ndarray], np.ndarray]


def _count(fn: Callable[..., np.ndarray]) -> Effect:
    """An interference effect whose strength is how many strokes it draws (1 to strength)."""
    return lambda img, rng, s, colour: fn(img, rng, colour, int(rng.integers(1, int(s) + 1)))


def _per_area(img: np.ndarray, rng: np.random.Generator, per_kpx: float) -> int:
    """A count of up to `per_kpx` per thousand pixels, so small images are not buried."""
    return int(rng.integers(1, max(2, int(per_kpx * img.shape[0] * img.shape[1] / 1000) + 1)))


EFFECTS: dict[str, Effect] = {
    "lines": _count(clutter.lines),
    "bezier": _count(clutter.bezier),
    "arcs": _count(clutter.arcs),
    "scribble": _count(clutter.scribble),
    "hook": _count(clutter.hook),
    "dots": lambda img, rng, s, c: clutter.dots(img, rng, c, _per_area(img, rng, s)),
    "speckle": lambda img, rng, s, c: clutter.speckle(img, rng, s),
    "salt_pepper": lambda img, rng, s, c: clutter.salt_pepper(img, rng, s),
    "sine": lambda img, rng, s, c: warp.sine(img, rng, s),
    "elastic": lambda img, rng, s, c: warp.elastic(img, rng, s),
    "perspective": lambda img, rng, s, c: warp.perspective(img, rng, s),
    "rotate": lambda img, rng, s, c: warp.rotate(img, rng, s),
    "squeeze": lambda img, rng, s, c: warp.squeeze(img, rng, s),
    "blur": lambda img, rng, s, c: camera.blur(img, rng, s),
    "noise": lambda img, rng, s, c: camera.noise(img, rng, s),
    "jpeg": lambda img, rng, s, c: camera.jpeg(img, rng, int(s)),
    "contrast": lambda img, rng, s, c: camera.contrast(img, rng, s),
    "resample": lambda img, rng, s, c: camera.resample(img, rng, s),
}
"""Effects on the composed image: name → f(image, rng, strength, ink colour)."""


@dataclass(frozen=True)
class Family:
    """One style of image: layout, paper, ink and the effects drawn, each with a probability."""

    description: str
    layout: Layout = PLAIN
    papers: tuple[str, ...] = ("plain",)
    ink: Literal["dark", "any", "light"] = "dark"
    multicolour: float = 0.0
    hollow: float = 0.0
    shadow: float = 0.0
    margin: tuple[float, float] = (0.05, 0.5)
    """Range of each margin, as a fraction of the text's height."""
    wide: float = 0.0
    """Probability of a wide CAPTCHA-like canvas: up to three times the text's width and at most
    `WIDEST` times its height, the text anywhere across it. A reader trained on text centred on
    its canvas drops or doubles the first letter of a word far in (docs/general.md, "A first
    letter far in")."""
    effects: tuple[tuple[str, float, float], ...] = ()
    """(effect, probability, strength), applied in this order."""


WIDEST = 8
"""Widest a wide canvas grows, in heights: CAPTCHA canvases run from 3:1 to 7:1 (ocrlab's hard
set), and a general-reader training line is 8:1 (`ocrlab.train.general.ZOO_WIDTH`)."""

_JUMBLE = Layout(rotate=24, scale=0.18, baseline=0.1, spacing=(0.75, 1.0), stretch=0.3, warp=0.2)
_TILT = Layout(rotate=12, scale=0.1, baseline=0.06, spacing=(0.85, 1.05))
_DEGRADE = (("blur", 0.3, 1.2), ("noise", 0.3, 14), ("jpeg", 0.2, 25), ("contrast", 0.2, 0.4))

FAMILIES: dict[str, Family] = {
    "clean": Family("dark text on light paper, tight or loose crop", margin=(0.0, 0.6),
                    effects=(("blur", 0.1, 0.8),)),
    "print": Family(
        "printed text photographed or scanned", papers=("plain", "gradient", "texture"),
        margin=(0.0, 0.8), wide=0.2,
        effects=(("rotate", 0.4, 3), ("resample", 0.3, 0.45), *_DEGRADE),
    ),
    "strike": Family(
        "dark text struck through by thick curves, some hooked at their ends, on grey",
        papers=("gradient", "plain"), layout=Layout(rotate=4, spacing=(0.8, 1.0)),
        margin=(0.1, 0.9), wide=0.6,
        effects=(("bezier", 0.6, 2), ("scribble", 0.6, 2), ("hook", 0.5, 1), ("lines", 0.2, 2),
                 ("blur", 0.5, 1.3), ("speckle", 0.3, 0.15)),
    ),
    "jumble": Family(
        "turned, scaled, stretched, warped, overlapping glyphs, some squeezed, with dots and a "
        "curve",
        papers=("plain", "gradient"), layout=_JUMBLE, ink="any", multicolour=0.5,
        margin=(0.1, 0.6), wide=0.5,
        effects=(("squeeze", 0.3, 0.6), ("dots", 0.6, 2.5), ("bezier", 0.5, 2),
                 ("scribble", 0.3, 1), ("hook", 0.2, 1), ("elastic", 0.3, 0.8), ("blur", 0.2, 1.0)),
    ),
    "crowd": Family(
        "large turned, stretched, warped glyphs squeezed into each other, half of them narrowed "
        "to a fixed canvas, dots and a curve in the ink's colour",
        papers=("plain", "gradient"), layout=Layout(rotate=25, scale=0.25, baseline=0.08,
        spacing=(0.68, 0.92), stretch=0.4, warp=0.25), ink="any", margin=(0.02, 0.3), wide=0.3,
        effects=(("squeeze", 0.5, 0.45), ("dots", 0.7, 3), ("bezier", 0.7, 1),
                 ("elastic", 0.4, 0.6), ("blur", 0.2, 0.8)),
    ),
    "textured": Family(
        "coloured text on paper, wood-like or photo textures with noise", ink="any",
        papers=("texture", "photo", "gradient"), margin=(0.05, 0.8), wide=0.3,
        effects=(("lines", 0.3, 3), ("scribble", 0.2, 2), ("noise", 0.6, 30), ("blur", 0.3, 1.0)),
    ),
    "colourful": Family(
        "multi-colour glyphs on colour panels with arcs", papers=("panels", "plain", "gradient"),
        layout=_TILT, ink="any", multicolour=0.8, margin=(0.1, 0.7), wide=0.4,
        effects=(("arcs", 0.6, 3), ("dots", 0.4, 2), ("jpeg", 0.3, 30)),
    ),
    "wavy": Family(
        "sine-rippled or elastic text on grids", papers=("grid", "plain", "texture"), ink="any",
        layout=Layout(rotate=6, spacing=(0.9, 1.05)), margin=(0.15, 0.7), wide=0.4,
        effects=(("sine", 0.7, 1.0), ("elastic", 0.4, 1.0), ("lines", 0.3, 2), ("blur", 0.2, 1.0)),
    ),
    "outline": Family(
        "hollow glyphs, turned and tilted", papers=("plain", "gradient", "texture"), ink="any",
        layout=_TILT, hollow=0.8, margin=(0.1, 0.6), wide=0.3,
        effects=(("perspective", 0.4, 0.8), ("bezier", 0.3, 1), ("blur", 0.2, 0.8)),
    ),
    "paper": Family(
        "words on kraft, wood, marble and graph paper with noise, as ocrlab's hard set",
        papers=("hard",), ink="any", margin=(0.1, 0.8), wide=0.5,
        effects=(("noise", 0.7, 40), ("blur", 0.15, 0.8)),
    ),
    "negative": Family(
        "light text on dark paper", papers=("plain", "gradient", "texture"), ink="light",
        layout=Layout(rotate=8, scale=0.05, spacing=(0.9, 1.05)), margin=(0.05, 0.6), wide=0.3,
        effects=(("lines", 0.3, 2), ("noise", 0.3, 20), ("blur", 0.2, 1.0)),
    ),
    # Held out of training: hatching, salt and pepper and drop shadows appear nowhere above.
    "hatched": Family(
        "held out: text on hatching with salt and pepper", papers=("hatching",), ink="any",
        layout=_TILT, margin=(0.1, 0.6), wide=0.3,
        effects=(("salt_pepper", 0.9, 0.04), ("blur", 0.2, 0.8)),
    ),
    "shadowed": Family(
        "held out: drop-shadowed glyphs in perspective", papers=("plain", "gradient"), ink="any",
        layout=_TILT, shadow=1.0, margin=(0.1, 0.6), wide=0.3,
        effects=(("perspective", 0.6, 1.0), ("jpeg", 0.4, 30)),
    ),
}  # fmt: skip
HELD_OUT = ("hatched", "shadowed")
TRAIN_FAMILIES = tuple(name for name in FAMILIES if name not in HELD_OUT)


@dataclass(frozen=True)
class ZooConfig:
    """What the zoo draws: families, charset, text lengths, and the share of English words."""

    families: tuple[str, ...] = TRAIN_FAMILIES
    charset: str = string.digits + string.ascii_uppercase + string.ascii_lowercase
    min_length: int = 1
    max_length: int = 12
    word_fraction: float = 0.4
    font_size: tuple[int, int] = (18, 44)
    seed: int = 0
    fonts: tuple[str, ...] = ()
    """Only these fonts of the pool (names, as `ocrlab fonts list` shows them), so the stream
    is the same on any machine that has them; empty: the whole pool."""

    def __post_init__(self) -> None:
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown or not self.families:
            raise ConfigError(f"unknown zoo families {unknown}; choose from {list(FAMILIES)}")
        if not 1 <= self.min_length <= self.max_length <= 64:
            raise ConfigError("need 1 <= min_length <= max_length <= 64")
        if not 0 <= self.word_fraction <= 1:
            raise ConfigError("word_fraction must be between 0 and 1")


def zoo_fonts(config: ZooConfig, sources: Sequence[Source | str | Path]) -> list[FontSpec]:
    """The training fonts of `sources` that draw the zoo's charset (those `config.fonts` names,
    where it names any): never a reserved family."""
    pool = pinned(font_pool(sources, "train", config.charset), config.fonts)
    if not pool:
        raise DatasetError("no usable training fonts found in " + ", ".join(map(str, sources)))
    return pool


@dataclass(frozen=True)
class ZooSample:
    """One drawn image (H, W, 3) uint8, its text, family and font."""

    image: np.ndarray
    text: str
    family: str
    font: str


@dataclass
class Zoo:
    """A zoo over a font pool; fonts are drawn by family (file name prefix) first, so a family
    with 40 weights counts once."""

    config: ZooConfig
    fonts: Sequence[FontSpec]
    _groups: list[list[FontSpec]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.fonts:
            raise ConfigError("the zoo needs at least one font")
        groups: dict[str, list[FontSpec]] = {}
        for spec in self.fonts:
            groups.setdefault(spec.name.split("-")[0].split("_")[0], []).append(spec)
        self._groups = [groups[k] for k in sorted(groups)]

    def sample(self, index: int) -> ZooSample:
        """Sample `index`: the same image and text on every machine and worker."""
        rng = make_rng(self.config.seed, ZOO, index)
        cfg = self.config
        name = cfg.families[int(rng.integers(len(cfg.families)))]
        group = self._groups[int(rng.integers(len(self._groups)))]
        spec = group[int(rng.integers(len(group)))]
        text = sample_text(rng, cfg)
        font = load_font(spec.path, int(rng.integers(cfg.font_size[0], cfg.font_size[1] + 1)))
        image = draw(FAMILIES[name], text, font, rng)
        return ZooSample(image, text, name, spec.name)


def is_test_word(word: str) -> bool:
    """One English word in ten (by a fixed hash) is kept for evaluation: never drawn by the zoo,
    so a hard-set score on these words is a score on words the general reader never saw."""
    return zlib.crc32(word.lower().encode()) % 10 == 0


@cache
def _words(max_length: int) -> tuple[str, ...]:
    from ocrlab.synth.vocab import english_words

    return tuple(w for w in english_words(2, max_length) if not is_test_word(w))


@cache
def _texture_bank(seed: int) -> tuple[np.ndarray, ...]:
    """The hard set's procedural papers (kraft, wood, marble, graph), made once per process from
    fixed seeds and cropped per sample: synthesising them per image would cost more than all
    other effects together."""
    names = ("kraft", "wood", "marble", "graph")
    return tuple(
        backgrounds.make_texture(name, make_rng(seed, TEXTURES, k), 160, 800)
        for k, name in enumerate(names)
    )


def _hard_paper(rng: np.random.Generator, h: int, w: int, colour: np.ndarray) -> np.ndarray:
    """A crop of one of the hard set's papers (scaled up when the canvas is larger)."""
    bank = _texture_bank(0)
    tex = bank[int(rng.integers(len(bank)))]
    if h > tex.shape[0] or w > tex.shape[1]:
        k = max(h / tex.shape[0], w / tex.shape[1])
        tex = np.asarray(
            Image.fromarray(tex).resize((int(tex.shape[1] * k) + 1, int(tex.shape[0] * k) + 1))
        )
    y, x = int(rng.integers(tex.shape[0] - h + 1)), int(rng.integers(tex.shape[1] - w + 1))
    return tex[y : y + h, x : x + w].astype(np.float32)


def sample_text(rng: np.random.Generator, cfg: ZooConfig) -> str:
    """Random characters of the charset, or an English word in lower, Title, UPPER or mixed case."""
    letters = [c for c in cfg.charset if c.isalpha()]
    if letters and rng.random() < cfg.word_fraction:
        words = _words(cfg.max_length)
        word = words[int(rng.integers(len(words)))]
        case = rng.random()
        if case < 0.4:
            text = word
        elif case < 0.65:
            text = word.capitalize()
        elif case < 0.85:
            text = word.upper()
        else:
            text = "".join(c.upper() if rng.random() < 0.5 else c for c in word)
        text = "".join(c for c in text if c in cfg.charset)
        if cfg.min_length <= len(text):
            return text
    length = int(rng.integers(cfg.min_length, cfg.max_length + 1))
    pools = [cfg.charset, *(p for p in _SUBSETS if set(p) <= set(cfg.charset))]
    pool = pools[int(rng.integers(len(pools)))]
    return "".join(pool[int(i)] for i in rng.integers(len(pool), size=length))


_SUBSETS = (
    string.digits + string.ascii_lowercase,
    string.digits + string.ascii_uppercase,
    string.ascii_lowercase,
    string.ascii_uppercase,
    string.digits,
)


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _colours(rng: np.random.Generator, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(paper, ink) colours with a clear difference in lightness."""
    if mode == "dark":
        back = rng.uniform(195, 255) + rng.uniform(-12, 12, 3)
        return np.clip(back, 0, 255), rng.uniform(0, 90) + rng.uniform(-15, 15, 3)
    if mode == "light":
        back = rng.uniform(0, 90) + rng.uniform(-20, 20, 3)
        return np.clip(back, 0, 255), np.clip(
            rng.uniform(180, 255) + rng.uniform(-20, 20, 3), 0, 255
        )
    back = rng.uniform(0, 255, 3)
    return back, _contrasting(rng, float(back @ _LUMA))


def _contrasting(rng: np.random.Generator, luma: float, gap: float = 80) -> np.ndarray:
    """A random colour whose lightness differs from `luma` by at least `gap`."""
    while True:
        colour = rng.uniform(0, 255, 3)
        if abs(float(colour @ _LUMA) - luma) > gap:
            return colour


def draw(family: Family, text: str, font: object, rng: np.random.Generator) -> np.ndarray:
    """Draw `text` in the style of `family`: (H, W, 3) uint8."""
    glyphs = lay_out(text, font, rng, family.layout)  # type: ignore[arg-type]
    alpha = glyphs.mask
    back, fore = _colours(rng, family.ink)
    th, tw = alpha.shape
    lo, hi = family.margin
    top, bottom, left, right = (int(rng.uniform(lo, hi) * th) for _ in range(4))
    h, w = th + top + bottom, tw + left + right
    if rng.random() < family.wide:
        extra = min(int(rng.uniform(0, 2.0) * tw), max(0, WIDEST * h - w))
        before = int(rng.uniform(0, 1.0) * extra)
        left, right, w = left + before, right + extra - before, w + extra
    paper_name = family.papers[int(rng.integers(len(family.papers)))]
    make_paper = _hard_paper if paper_name == "hard" else paper.PAPERS[paper_name]
    bg = make_paper(rng, h, w, back)
    luma = float(bg.reshape(-1, 3).mean(0) @ _LUMA)
    if abs(float(fore @ _LUMA) - luma) < 70:  # a texture or gradient drifted towards the ink
        fore = np.full(3, 15.0 if luma > 128 else 240.0, np.float32)
    canvas_alpha = np.zeros((h, w), np.float32)
    canvas_alpha[top : top + th, left : left + tw] = alpha
    if rng.random() < family.hollow:
        canvas_alpha = ink.hollow(canvas_alpha, rng)
    colour = ink.solid(canvas_alpha, fore)
    if rng.random() < family.multicolour:
        spans = [(a + left, b + left) for a, b in glyphs.spans]
        colour = ink.per_glyph(canvas_alpha, spans, [_contrasting(rng, luma) for _ in spans])
    if rng.random() < family.shadow:
        bg = ink.shadow(canvas_alpha, rng, bg, colour)
    img = ink.composite(bg, canvas_alpha, colour)
    for effect, p, strength in family.effects:
        if rng.random() < p:
            img = EFFECTS[effect](img, rng, strength, fore)
    return np.clip(img, 0, 255).astype(np.uint8)
