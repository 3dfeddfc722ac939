"""What a dataset contains: its config, and the deterministic description of every sample.

A dataset is a grid, backgrounds × noise levels × colours × words × fonts, in row-major order: the
hard set's 4 × 5 × 5 × 100 × 10 = 100,000 images ("Breaking CAPTCHA" counts 100,000 but its product
omits the fonts), and the easy set's 1 × 1 × 1 × 100 × 10 = 1,000. Sample *id* draws everything
random (casing, crop, placement, noise) from `make_rng(seed, SAMPLES, id)` in a fixed order, so any
worker can render any sample and get the same bytes. `--limit` keeps a seeded random subset of grid
ids, in id order, so a small set still covers every combination evenly. Imports NumPy and Pillow
only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ocrlab import __version__
from ocrlab.config import to_dict
from ocrlab.errors import ConfigError, VocabError
from ocrlab.rng import SAMPLES, TEXTURES, VOCAB, make_rng
from ocrlab.synth import backgrounds
from ocrlab.synth.fit import Progress, fit_canvas, fits
from ocrlab.synth.fonts import FontSpec, check_fonts, load_font, missing_glyphs, resolve_fonts
from ocrlab.synth.metrics import FontMetrics, cache_dir
from ocrlab.synth.render import COLOURS, Canvas, Style, render
from ocrlab.synth.vocab import Order, Vocab, english_words, vocab_from_document, vocab_from_words

Kind = Literal["easy", "hard"]
Format = Literal["png", "packed"]
MAX_IMAGES = 10_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class GenerateConfig:
    """Everything that decides a dataset's bytes (worker count and resuming do not)."""

    kind: Kind = "hard"
    """easy: centred on the page; hard: placed at random in the free space."""
    words: int = 100
    vocab: str | None = None
    """A .txt/.md/.pdf/.docx document, a vocab.json, 'english' (a big word list), None: bundled."""
    vocab_order: Order = "first"
    min_length: int = 3
    max_length: int = 20
    fonts_dir: str | None = None
    only_user_fonts: bool = False
    font_size: int = 32
    margin: int = 6
    height: int | None = None
    width: int | None = None
    backgrounds: tuple[str, ...] = ("kraft", "wood", "marble", "graph")
    background_dir: str | None = None
    noise_levels: tuple[float, ...] = (0.0, 8.0, 16.0, 28.0, 40.0)
    colours: tuple[str, ...] = tuple(COLOURS)
    upper_prob: float = 0.5
    limit: int | None = None
    seed: int = 0
    format: Format = "png"
    shard_size: int = 2048

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.words <= 1_000_000, "words must be between 1 and 1,000,000"),
            (
                1 <= self.min_length <= self.max_length <= 64,
                "need 1 <= min_length <= max_length <= 64",
            ),
            (8 <= self.font_size <= 256, "font_size must be between 8 and 256 pixels"),
            (0 <= self.margin <= 256, "margin must be between 0 and 256 pixels"),
            (
                (self.height is None) == (self.width is None),
                "give both height and width, or neither",
            ),
            (bool(self.backgrounds), "at least one background is needed"),
            (bool(self.noise_levels), "at least one noise level is needed"),
            (all(0 <= n <= 255 for n in self.noise_levels), "noise levels are 0..255 (pixel std)"),
            (bool(self.colours), "at least one colour is needed"),
            (all(c in COLOURS for c in self.colours), f"colours must be among {list(COLOURS)}"),
            (0.0 <= self.upper_prob <= 1.0, "upper_prob must be between 0 and 1"),
            (self.limit is None or self.limit >= 1, "limit must be at least 1"),
            (self.seed >= 0, "seed must be non-negative"),
            (1 <= self.shard_size <= 100_000, "shard_size must be between 1 and 100,000"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        unknown = [b for b in self.backgrounds if b not in backgrounds.TEXTURES]
        if unknown:
            raise ConfigError(
                f"unknown backgrounds {unknown}; choose from {list(backgrounds.TEXTURES)}"
            )


PRESETS: dict[str, GenerateConfig] = {
    "easy": GenerateConfig(
        kind="easy", backgrounds=("plain",), noise_levels=(0.0,), colours=("black",), upper_prob=0.0
    ),
    "hard": GenerateConfig(),
}


def load_vocab(cfg: GenerateConfig) -> Vocab:
    """The vocabulary `cfg` names, with exactly `cfg.words` words."""
    if cfg.vocab == "english":
        pool = english_words(cfg.min_length, cfg.max_length)
        if len(pool) < cfg.words:
            raise VocabError(
                f"the English word list has only {len(pool)} words, {cfg.words} asked for"
            )
        pick = np.sort(make_rng(cfg.seed, VOCAB).choice(len(pool), cfg.words, replace=False))
        return vocab_from_words([pool[i] for i in pick], "english-words:web2")
    if cfg.vocab is not None and cfg.vocab.endswith(".json"):
        path = Path(cfg.vocab)
        try:
            vocab = Vocab.from_json(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise VocabError(f"cannot read {path}: {exc}") from None
        if len(vocab) < cfg.words:
            raise VocabError(f"{path} has {len(vocab)} words, {cfg.words} asked for")
        return Vocab(vocab.words[: cfg.words], vocab.source)
    doc = None if cfg.vocab is None else Path(cfg.vocab)
    return vocab_from_document(
        doc, cfg.words, order=cfg.vocab_order, min_length=cfg.min_length, max_length=cfg.max_length
    )


@dataclass(frozen=True)
class Sample:
    """One planned image: grid coordinates and the text as drawn."""

    id: int
    word: int
    font: int
    background: int
    noise: int
    colour: int
    text: str


@dataclass
class Plan:
    """A resolved dataset: vocabulary, checked fonts, canvas, and the ids it holds."""

    config: GenerateConfig
    vocab: Vocab
    fonts: list[FontSpec]
    canvas: Canvas
    ids: np.ndarray
    backgrounds: tuple[str, ...]
    """Procedural texture names, then the user's background images (paths), in grid order."""
    _textures: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def grid(self) -> tuple[int, ...]:
        cfg = self.config
        return (
            len(self.backgrounds),
            len(cfg.noise_levels),
            len(cfg.colours),
            len(self.vocab),
            len(self.fonts),
        )

    def sample(self, sample_id: int, rng: np.random.Generator) -> Sample:
        """Describe sample `sample_id`; draws the casing from `rng`, leaving it ready to render."""
        bg, noise, colour, word, font = (int(c) for c in np.unravel_index(sample_id, self.grid))
        upper = rng.random(len(self.vocab.words[word])) < self.config.upper_prob
        text = "".join(
            c.upper() if u else c for c, u in zip(self.vocab.words[word], upper, strict=True)
        )
        return Sample(sample_id, word, font, bg, noise, colour, text)

    def describe(self, sample_id: int) -> Sample:
        """Describe sample `sample_id` without drawing it."""
        return self.sample(sample_id, make_rng(self.config.seed, SAMPLES, sample_id))

    def texture(self, background: int) -> np.ndarray:
        """The background's texture, twice the canvas in each direction, made on first use."""
        if not self._textures:
            h, w = 2 * self.canvas.height, 2 * self.canvas.width
            self._textures = [
                backgrounds.make_texture(name, make_rng(self.config.seed, TEXTURES, k), h, w)
                for k, name in enumerate(self.backgrounds)
            ]
        return self._textures[background]

    def render(self, sample_id: int) -> tuple[Sample, np.ndarray]:
        """Plan and draw one sample: (description, (H, W, 3) uint8 image)."""
        rng = make_rng(self.config.seed, SAMPLES, sample_id)
        s = self.sample(sample_id, rng)
        cfg, (h, w) = self.config, (self.canvas.height, self.canvas.width)
        tex = self.texture(s.background)
        y, x = int(rng.integers(tex.shape[0] - h + 1)), int(rng.integers(tex.shape[1] - w + 1))
        style = Style(COLOURS[cfg.colours[s.colour]], cfg.noise_levels[s.noise], cfg.kind == "hard")
        font = load_font(self.fonts[s.font].path, cfg.font_size)
        return s, render(s.text, font, tex[y : y + h, x : x + w], style, rng)


def make_plan(cfg: GenerateConfig, progress: Progress | None = None) -> Plan:
    """Resolve and check everything a dataset needs, before anything touches the disk.

    Built once per run (`generate` hands it to its workers). Font metrics come from the cache of
    `ocrlab.synth.metrics`; `progress(step, done, total)` follows the per-font steps.
    """
    vocab = load_vocab(cfg)
    user_fonts = None if cfg.fonts_dir is None else Path(cfg.fonts_dir)
    fonts = resolve_fonts(user_fonts, with_defaults=not cfg.only_user_fonts)
    metrics = _checked_metrics(fonts, vocab.words, cfg.font_size, progress)
    try:
        if cfg.height is None or cfg.width is None:
            canvas = fit_canvas(vocab.words, metrics, cfg.margin, progress=progress)
        else:
            canvas = Canvas(cfg.height, cfg.width)
            if not fits(canvas, vocab.words, metrics, cfg.margin, progress):
                needed = fit_canvas(vocab.words, metrics, cfg.margin)
                raise ConfigError(
                    f"a {canvas.height}x{canvas.width} canvas would clip text: these words and "
                    f"fonts need at least {needed.height}x{needed.width}"
                )
    finally:
        for m in metrics:
            m.save()
    plan = Plan(cfg, vocab, fonts, canvas, np.zeros(0, np.int64), _backgrounds(cfg))
    total = int(np.prod(plan.grid))
    count = total if cfg.limit is None else min(cfg.limit, total)
    if count > MAX_IMAGES:
        raise ConfigError(
            f"{count:,} images asked for; the most one dataset holds is {MAX_IMAGES:,}"
        )
    if count == total:
        plan.ids = np.arange(total, dtype=np.int64)
    else:
        plan.ids = np.sort(make_rng(cfg.seed, SAMPLES).choice(total, count, replace=False))
    return plan


def _checked_metrics(
    fonts: list[FontSpec], words: tuple[str, ...], size: int, progress: Progress | None
) -> list[FontMetrics]:
    """Each font's metrics, once its glyphs for every character (both cases) are checked."""
    needed = "".join(
        sorted({c for ch in set("".join(words)) for c in (ch, ch.upper(), ch.lower())})
    )
    metrics, failing = [], []
    for k, spec in enumerate(fonts):
        m = FontMetrics(spec.path, size, cache_dir())
        if not m.checked(needed):
            if missing_glyphs(m.font, needed):
                failing.append(spec)
            else:
                m.mark_checked(needed)
        metrics.append(m)
        if progress is not None:
            progress("checking fonts", k + 1, len(fonts))
    if failing:
        for m in metrics:
            m.save()
        check_fonts(failing, needed, size)  # raises, naming every failing font
    return metrics


def _backgrounds(cfg: GenerateConfig) -> tuple[str, ...]:
    if cfg.background_dir is None:
        return cfg.backgrounds
    folder = Path(cfg.background_dir)
    if not folder.is_dir():
        raise ConfigError(f"background folder not found: {folder}")
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise ConfigError(f"no .png, .jpg or .jpeg images in background folder {folder}")
    return (*cfg.backgrounds, *(str(p) for p in images))


def dataset_json(plan: Plan) -> dict[str, object]:
    """The JSON saved as `config.json`: enough to check a resume and to load the dataset."""
    return {
        "ocrlab": __version__,
        "config": to_dict(plan.config),
        "canvas": [plan.canvas.height, plan.canvas.width],
        "count": len(plan.ids),
        "fonts": [f.name for f in plan.fonts],
        "backgrounds": [Path(b).name for b in plan.backgrounds],
        "words": list(plan.vocab.words),
    }
