"""Backgrounds for the hard set: procedural textures, plus the user's own images.

Each background is one texture, made once per dataset from its own seeded stream and twice the
canvas size; every image takes a random crop of it. That keeps per-image cost at a slice instead of
a texture synthesis, while the crop offset still varies what lies behind each word. Brown paper and
wood are here on purpose: with an orange font and noise they are the hardest case of
"Breaking CAPTCHA". Imports NumPy and Pillow only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ocrlab.errors import ImageError

Texture = Callable[[np.random.Generator, int, int], np.ndarray]


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    """Value noise in [0, 1]: a coarse random grid upsampled bicubically to (h, w)."""
    gh, gw = max(2, h // scale + 2), max(2, w // scale + 2)
    grid = Image.fromarray(rng.random((gh, gw), dtype=np.float32), mode="F")
    return np.clip(np.asarray(grid.resize((w, h), Image.Resampling.BICUBIC), np.float32), 0.0, 1.0)


def _fractal(rng: np.random.Generator, h: int, w: int, scales: tuple[int, ...]) -> np.ndarray:
    layers = [_smooth_noise(rng, h, w, s) / (i + 1) for i, s in enumerate(scales)]
    total: np.ndarray = np.sum(layers, axis=0)
    return (total - total.min()) / max(float(np.ptp(total)), 1e-6)


def _tint(value: np.ndarray, dark: tuple[int, int, int], light: tuple[int, int, int]) -> np.ndarray:
    lo, hi = np.array(dark, np.float32), np.array(light, np.float32)
    return (lo + value[..., None] * (hi - lo)).astype(np.uint8)


def kraft_paper(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Brown packing paper: blotchy fibres on a mid-brown ground."""
    blotch = _fractal(rng, h, w, (48, 16, 4))
    fibres = _smooth_noise(rng, h, w * 8, 2)[:, ::8] * 0.25
    return _tint(np.clip(0.55 * blotch + fibres + 0.2, 0, 1), (120, 78, 40), (205, 160, 105))


def wood(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Wood grain: warped horizontal rings in dark and light brown."""
    y = np.arange(h, dtype=np.float32)[:, None]
    warp = _fractal(rng, h, w, (64, 24)) * 18.0
    rings = 0.5 + 0.5 * np.sin((y + warp) * (2 * np.pi / rng.uniform(7.0, 11.0)))
    return _tint(0.7 * rings + 0.3 * _smooth_noise(rng, h, w, 6), (92, 54, 26), (176, 120, 70))


def marble(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Grey-blue marble: veins from a sine of fractal noise."""
    x = np.arange(w, dtype=np.float32)[None, :]
    veins = np.abs(np.sin(x / 23.0 + _fractal(rng, h, w, (40, 12, 5)) * 9.0)) ** 0.4
    return _tint(veins, (120, 128, 140), (232, 234, 240))


def graph_paper(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Cream graph paper with a blue grid and faint stains."""
    base = _tint(_fractal(rng, h, w, (32, 8)), (222, 214, 188), (250, 246, 230))
    step = int(rng.integers(9, 15))
    off_y, off_x = (int(v) for v in rng.integers(0, step, size=2))
    grid = np.zeros((h, w), bool)
    grid[off_y::step, :] = True
    grid[:, off_x::step] = True
    base[grid] = (base[grid] * 0.55 + np.array([70, 110, 190]) * 0.45).astype(np.uint8)
    return base


def plain(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """White paper: the easy set's background."""
    return np.full((h, w, 3), 255, dtype=np.uint8)


TEXTURES: dict[str, Texture] = {
    "plain": plain,
    "kraft": kraft_paper,
    "wood": wood,
    "marble": marble,
    "graph": graph_paper,
}


def user_texture(path: Path, h: int, w: int) -> np.ndarray:
    """A user's image as an (h, w, 3) texture: scaled to cover, then centre-cropped."""
    try:
        with Image.open(path) as src:
            src.draft("RGB", (w, h))
            scale = max(h / src.height, w / src.width)
            size = (max(w, round(src.width * scale)), max(h, round(src.height * scale)))
            im = src.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError(f"cannot use background image {path}: {exc}") from None
    left, top = (im.width - w) // 2, (im.height - h) // 2
    return np.asarray(im.crop((left, top, left + w, top + h)), dtype=np.uint8)


def make_texture(name: str, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A (h, w, 3) uint8 texture: a procedural one by name, else a path to the user's image."""
    if name in TEXTURES:
        return TEXTURES[name](rng, h, w)
    return user_texture(Path(name), h, w)
