"""What lies behind the text: plain colour, gradients, grids, hatching, noise textures, panels.

Each function returns an (h, w, 3) float32 image in [0, 255] of the given base colour. Textures
are value noise at one or two scales, cheap enough to make per sample.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

Colour = np.ndarray  # (3,) float32


def plain(rng: np.random.Generator, h: int, w: int, colour: Colour) -> np.ndarray:
    return np.broadcast_to(colour.astype(np.float32), (h, w, 3)).copy()


def gradient(rng: np.random.Generator, h: int, w: int, colour: Colour) -> np.ndarray:
    """A linear blend from `colour` to another colour of similar lightness, at a random angle."""
    other = np.clip(colour + rng.uniform(-70, 70, 3), 0, 255).astype(np.float32)
    angle = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    return colour * (1 - t[..., None]) + other * t[..., None]


def value_noise(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Smooth noise in [0, 1]: a coarse random grid upsampled bicubically."""
    gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    grid = Image.fromarray(rng.random((gh, gw), dtype=np.float32), mode="F")
    return np.clip(np.asarray(grid.resize((w, h), Image.Resampling.BICUBIC)), 0, 1)


def texture(rng: np.random.Generator, h: int, w: int, colour: Colour) -> np.ndarray:
    """Blotchy paper: two octaves of value noise tinting `colour` lighter and darker."""
    v = 0.65 * value_noise(rng, h, w, rng.uniform(8, 40)) + 0.35 * value_noise(rng, h, w, 3)
    depth = rng.uniform(20, 80)
    return np.clip(colour + (v[..., None] - 0.5) * depth, 0, 255)


def _stroke_colour(rng: np.random.Generator, colour: Colour) -> np.ndarray:
    return np.clip(colour + rng.choice([-1, 1]) * rng.uniform(30, 90), 0, 255)


def grid(rng: np.random.Generator, h: int, w: int, colour: Colour) -> np.ndarray:
    """Ruled grid lines (graph paper, form boxes)."""
    out = plain(rng, h, w, colour)
    step = int(rng.integers(5, 16))
    ys, xs = slice(int(rng.integers(step)), None, step), slice(int(rng.integers(step)), None, step)
    line = _stroke_colour(rng, colour)
    out[ys, :] = line
    out[:, xs] = line
    return out


def hatching(rng: np.random.Generator, h: int, w: int, colour: Colour) -> np.ndarray:
    """Parallel diagonal strokes at a random angle and pitch."""
    out = plain(rng, h, w, colour)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    pitch = rng.uniform(3, 9)
    phase = (x * np.cos(angle) + y * np.sin(angle)) / pitch
    on = (phase - np.floor(phase)) < rng.uniform(0.15, 0.4)
    out[on] = _stroke_colour(rng, colour)
    return out


def panels(rng: np.random.Generator, h: int, w: int, colour: Colour) -> np.ndarray:
    """Vertical bands of different colours, as multi-colour CAPTCHAs paint behind each part."""
    out = plain(rng, h, w, colour)
    cuts = np.sort(rng.integers(0, w, int(rng.integers(1, 5))))
    for a, b in zip(cuts, [*cuts[1:], w], strict=True):
        out[:, a:b] = np.clip(colour + rng.uniform(-60, 60, 3), 0, 255)
    return out


def photo(rng: np.random.Generator, h: int, w: int, colour: Colour) -> np.ndarray:
    """A photo-like scene: large soft colour regions with fine grain."""
    out = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        out[..., c] = value_noise(rng, h, w, rng.uniform(10, 30))
    base = colour + (out - 0.5) * rng.uniform(60, 140)
    return np.clip(base + rng.normal(0, 4, (h, w, 1)), 0, 255)


PAPERS = {
    "plain": plain,
    "gradient": gradient,
    "texture": texture,
    "grid": grid,
    "hatching": hatching,
    "panels": panels,
    "photo": photo,
}
