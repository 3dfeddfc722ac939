"""Interference drawn across the text: straight lines, arcs, Bézier curves, dots, speckle, salt
and pepper. Lines are the classic anti-segmentation device; dots and speckle break thresholding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import ImageDraw

from ocrlab.synth.effects import to_image


def _draw(img: np.ndarray, paint: Callable[[ImageDraw.ImageDraw], None]) -> np.ndarray:
    """Run `paint(draw)` on an RGB copy of `img` and return it as float32."""
    im = to_image(img)
    paint(ImageDraw.Draw(im))
    return np.asarray(im, np.float32)


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    c = np.clip(colour, 0, 255).astype(int)
    return int(c[0]), int(c[1]), int(c[2])


def lines(img: np.ndarray, rng: np.random.Generator, colour: np.ndarray, count: int) -> np.ndarray:
    """`count` straight strokes from edge to edge, 1-3 px wide."""
    h, w = img.shape[:2]

    def paint(d: ImageDraw.ImageDraw) -> None:
        for _ in range(count):
            ends = [(0, rng.uniform(0, h)), (w, rng.uniform(0, h))]
            d.line(ends, fill=_rgb(colour), width=int(rng.integers(1, 4)))

    return _draw(img, paint)


def bezier(img: np.ndarray, rng: np.random.Generator, colour: np.ndarray, count: int) -> np.ndarray:
    """`count` cubic Bézier curves across the image, through the text band."""
    h, w = img.shape[:2]
    t = np.linspace(0, 1, 48)[:, None]

    def paint(d: ImageDraw.ImageDraw) -> None:
        for _ in range(count):
            p = np.stack(
                [
                    np.linspace(0, w, 4) + rng.uniform(-w / 8, w / 8, 4),
                    rng.uniform(0.1 * h, 0.9 * h, 4),
                ],
                1,
            )
            curve = (
                (1 - t) ** 3 * p[0]
                + 3 * (1 - t) ** 2 * t * p[1]
                + 3 * (1 - t) * t**2 * p[2]
                + t**3 * p[3]
            )
            d.line(
                [tuple(q) for q in curve.tolist()], fill=_rgb(colour), width=int(rng.integers(1, 5))
            )

    return _draw(img, paint)


def scribble(
    img: np.ndarray, rng: np.random.Generator, colour: np.ndarray, count: int
) -> np.ndarray:
    """`count` polylines of 2-5 straight pieces that start and end anywhere, hooks and ticks
    included: strokes a reader must not mistake for the edge of a letter."""
    h, w = img.shape[:2]

    def paint(d: ImageDraw.ImageDraw) -> None:
        for _ in range(count):
            n = int(rng.integers(2, 6))
            xs = np.sort(rng.uniform(-0.1 * w, 1.1 * w, n))
            ys = rng.uniform(0.05 * h, 0.95 * h, n)
            d.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=_rgb(colour),
                   width=int(rng.integers(1, 5)), joint="curve")  # fmt: skip

    return _draw(img, paint)


def hook(img: np.ndarray, rng: np.random.Generator, colour: np.ndarray, count: int) -> np.ndarray:
    """`count` strokes across the text whose ends may bend sharply into a tick, as a pen leaves
    where it lands or lifts: beside a letter a tick looks like an r, a 7 or an l, and the reader
    must learn that it is none."""
    h, w = img.shape[:2]

    def paint(d: ImageDraw.ImageDraw) -> None:
        for _ in range(count):
            n = int(rng.integers(2, 4))
            xs = np.linspace(rng.uniform(-0.05 * w, 0.35 * w), rng.uniform(0.65 * w, 1.05 * w), n)
            points = list(
                zip(xs.tolist(), rng.uniform(0.15 * h, 0.85 * h, n).tolist(), strict=True)
            )
            for end, chance in ((0, 0.7), (-1, 0.35)):
                if rng.random() < chance:
                    length, turn = rng.uniform(0.2, 0.6) * h, rng.uniform(-0.7, 0.7)
                    x, y = points[end]
                    tip = (
                        x + length * np.sin(turn),
                        y + rng.choice((-1, 1)) * length * np.cos(turn),
                    )
                    if end:
                        points.append(tip)
                    else:
                        points.insert(0, tip)
            d.line(points, fill=_rgb(colour), width=int(rng.integers(1, 5)), joint="curve")

    return _draw(img, paint)


def arcs(img: np.ndarray, rng: np.random.Generator, colour: np.ndarray, count: int) -> np.ndarray:
    """`count` elliptical arcs, parts of circles larger than the text."""
    h, w = img.shape[:2]

    def paint(d: ImageDraw.ImageDraw) -> None:
        for _ in range(count):
            cx, cy = rng.uniform(0, w), rng.uniform(-h, 2 * h)
            rx, ry = rng.uniform(w / 4, w), rng.uniform(h / 2, 2 * h)
            start = rng.uniform(0, 360)
            d.arc(
                [cx - rx, cy - ry, cx + rx, cy + ry],
                start,
                start + rng.uniform(40, 160),
                fill=_rgb(colour),
                width=int(rng.integers(1, 4)),
            )

    return _draw(img, paint)


def dots(img: np.ndarray, rng: np.random.Generator, colour: np.ndarray, count: int) -> np.ndarray:
    """`count` filled dots of radius 1-3 px at random places."""
    h, w = img.shape[:2]

    def paint(d: ImageDraw.ImageDraw) -> None:
        for _ in range(count):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.7, 3)
            d.ellipse([x - r, y - r, x + r, y + r], fill=_rgb(colour + rng.uniform(-40, 40, 3)))

    return _draw(img, paint)


def speckle(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Multiplicative grain: each pixel scaled by 1 ± `amount`."""
    return img * (1 + rng.normal(0, amount, (*img.shape[:2], 1)).astype(np.float32))


def salt_pepper(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """A fraction `amount` of pixels set to black or white."""
    out = img.copy()
    hit = rng.random(img.shape[:2]) < amount
    out[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0.0, 255.0)[:, None]
    return out
