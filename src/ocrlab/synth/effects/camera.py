"""Degrade the finished image as cameras, scanners and web pipelines do: blur, sensor noise,
JPEG blocks, washed-out contrast and resampling."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

from ocrlab.synth.effects import to_image


def blur(img: np.ndarray, rng: np.random.Generator, radius: float) -> np.ndarray:
    """Gaussian blur of radius up to `radius` pixels."""
    r = rng.uniform(0.3, radius)
    return np.asarray(to_image(img).filter(ImageFilter.GaussianBlur(r)), np.float32)


def noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Additive Gaussian noise, grey (all channels alike) with std up to `sigma`."""
    s = rng.uniform(2, sigma)
    return img + rng.normal(0, s, (*img.shape[:2], 1)).astype(np.float32)


def jpeg(img: np.ndarray, rng: np.random.Generator, worst: int) -> np.ndarray:
    """Encode and decode as JPEG at a quality between `worst` and 90."""
    buf = io.BytesIO()
    to_image(img).save(buf, format="JPEG", quality=int(rng.integers(worst, 91)))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"), np.float32)


def contrast(img: np.ndarray, rng: np.random.Generator, lowest: float) -> np.ndarray:
    """Pull every pixel towards the mean, keeping between `lowest` and 1 of the contrast."""
    k = rng.uniform(lowest, 1.0)
    mean = img.mean()
    return mean + (img - mean) * k


def resample(img: np.ndarray, rng: np.random.Generator, smallest: float) -> np.ndarray:
    """Shrink by a factor down to `smallest` and enlarge back: soft, blocky edges."""
    h, w = img.shape[:2]
    k = rng.uniform(smallest, 0.9)
    small = to_image(img).resize(
        (max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.BILINEAR
    )
    return np.asarray(
        small.resize(
            (w, h), Image.Resampling.NEAREST if rng.random() < 0.5 else Image.Resampling.BILINEAR
        ),
        np.float32,
    )
