"""Bend the whole image: sine ripples, elastic distortion, perspective, rotation and squeezing.

The first three build a sampling map (where each output pixel comes from) and resample once with
bilinear interpolation, edges repeated, so text, lines and background bend together as they do in
a warped CAPTCHA.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ocrlab.synth.effects import to_image
from ocrlab.synth.effects.paper import value_noise


def remap(img: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample (H, W, C) `img` at float coordinates (ys, xs) of the output's shape, bilinearly."""
    h, w = img.shape[:2]
    ys = np.clip(ys, 0, h - 1.001)
    xs = np.clip(xs, 0, w - 1.001)
    y0, x0 = ys.astype(np.int32), xs.astype(np.int32)
    fy, fx = (ys - y0)[..., None], (xs - x0)[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return y, x


def sine(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Rows shift up and down along a sine of x (and columns sideways along a sine of y)."""
    h, w = img.shape[:2]
    y, x = _grid(h, w)
    amp = strength * h * rng.uniform(0.03, 0.12)
    period = rng.uniform(0.4, 1.5) * w
    dy = amp * np.sin(2 * np.pi * x / period + rng.uniform(0, 2 * np.pi))
    dx = 0.5 * amp * np.sin(2 * np.pi * y / rng.uniform(0.5, 2.0) / h + rng.uniform(0, 2 * np.pi))
    return remap(img, y + dy, x + dx)


def elastic(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Smooth random displacement (Simard et al. 2003): strokes wobble, letters keep their shape."""
    h, w = img.shape[:2]
    y, x = _grid(h, w)
    scale = rng.uniform(4, 10)
    amp = strength * rng.uniform(1.0, 3.0) * h / 32
    dy = (value_noise(rng, h, w, scale) - 0.5) * 2 * amp
    dx = (value_noise(rng, h, w, scale) - 0.5) * 2 * amp
    return remap(img, y + dy, x + dx)


def perspective(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """A random perspective: the four corners move inwards by up to `strength` × 15 % of a side."""
    h, w = img.shape[:2]
    jitter = strength * 0.15
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    dst = src + rng.uniform(-1, 1, (4, 2)) * [w * jitter * 0.5, h * jitter]
    coeffs = _perspective_coeffs(src, dst)
    im = to_image(img)
    fill = tuple(int(v) for v in np.median(img.reshape(-1, img.shape[2]), 0))
    out = im.transform(
        (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR, fillcolor=fill
    )
    return np.asarray(out, np.float32)


def _perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> tuple[float, ...]:
    """The 8 coefficients that map output corners `src` to input corners `dst` (PIL's form)."""
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(np.array(rows), dst.reshape(8))
    return tuple(float(c) for c in solution)


def rotate(img: np.ndarray, rng: np.random.Generator, degrees: float) -> np.ndarray:
    """Turn the whole image by up to ±`degrees`, corners filled with the median colour."""
    im = to_image(img)
    fill = tuple(int(v) for v in np.median(img.reshape(-1, img.shape[2]), 0))
    out = im.rotate(rng.uniform(-degrees, degrees), Image.Resampling.BILINEAR, fillcolor=fill)
    return np.asarray(out, np.float32)


def squeeze(img: np.ndarray, rng: np.random.Generator, narrowest: float) -> np.ndarray:
    """Narrow the whole image by a factor down to `narrowest`, its height kept: a CAPTCHA that
    fits a long text into a fixed canvas draws tall, thin glyphs. Drawn first in a family, the
    dots and curves drawn after it keep their shape, as such a CAPTCHA draws them."""
    h, w = img.shape[:2]
    im = to_image(img)
    narrow = im.resize(
        (max(1, round(w * rng.uniform(narrowest, 1.0))), h), Image.Resampling.BILINEAR
    )
    return np.asarray(narrow, np.float32)
