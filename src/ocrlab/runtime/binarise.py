"""Turn a real image of letters into what an EMNIST-trained model has seen (the Application of
"Letter Recognition").

A model trained on 28×28 white-on-black handwriting fails on a coloured digital image resized
naively (the 'S' of "Letter Recognition" read as [Q, G, A, M, W]). The write-up's workaround, made
exact here: resize to the area of a 300×300 working image (aspect kept), split the colours into
K = 2 clusters with K-means, call the larger cluster background, binarise (ink = 1), crop to the
ink, pad to a square, fit into a box centred by mass in 28×28 (MNIST/EMNIST style) and blur. Each
stage can be recorded in `Stages` and written as numbered PNGs (`ocrlab read --debug DIR`). The
K-means is a few lines of NumPy (no OpenCV or scikit-learn to install), deterministic: centres start
at the commonest colour and the farthest colours from it, not at random. It is the letters kind's
preprocessing, shared by the letter reader and the trainers' printed letters. Imports NumPy, Pillow
and `ocrlab.data.images` only; never torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from ocrlab.data.images import MAX_PIXELS, ImageLike, open_image
from ocrlab.errors import BlankImageError, ConfigError, ImageError

Mask = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class PreprocessConfig:
    """How a real image becomes EMNIST-like letters; the defaults are the letter reader's."""

    work_size: int = 300
    """The working image has the area of work_size × work_size (300×300 in "Letter Recognition"),
    aspect kept."""
    k: int = 2
    """K-means clusters: 2 is ink and background; more for shaded backgrounds."""
    iterations: int = 20
    """Most K-means (Lloyd) iterations; it stops earlier once no pixel changes cluster."""
    min_side: int = 8
    """Smallest input side accepted: below it there is nothing to read."""
    min_contrast: float = 48.0
    """Least RGB distance (0–441) between the background and ink centres; less is a blank image."""
    max_ink: float = 0.45
    """Most ink, as a fraction of the image: beyond it the image is not letters on a background."""
    side: int = 28
    """Output side: EMNIST's 28."""
    box: int = 22
    """The letter's longer side inside the output: MNIST uses 20, EMNIST's letters measure 21–24."""
    centre: Literal["mass", "box"] = "mass"
    """Place the letter's centre of mass (MNIST, LeCun et al.) or its box at the output's centre."""
    blur: float = 0.6
    """Gaussian sigma in output pixels, softening edges as EMNIST's downsampling did; 0: off."""
    max_pixels: int = MAX_PIXELS
    """Largest input accepted (width × height): beyond it a file is a decompression bomb."""

    def __post_init__(self) -> None:
        if not 32 <= self.work_size <= 4096 or not 2 <= self.k <= 8 or self.iterations < 1:
            raise ConfigError("need 32 ≤ work_size ≤ 4096, 2 ≤ k ≤ 8 and iterations ≥ 1")
        if self.min_side < 1 or not 0 < self.max_ink < 1 or self.min_contrast < 0:
            raise ConfigError("need min_side ≥ 1, 0 < max_ink < 1 and min_contrast ≥ 0")
        if not 4 <= self.box <= self.side or self.blur < 0 or self.max_pixels < 1:
            raise ConfigError("need 4 ≤ box ≤ side, blur ≥ 0 and max_pixels ≥ 1")


@dataclass
class Stages:
    """Named intermediate images, in the order made; `save` writes them as numbered PNGs."""

    images: list[tuple[str, U8]] = field(default_factory=list)

    def add(self, name: str, image: npt.NDArray[np.generic]) -> None:
        """Record `image`: a bool mask (ink white), floats in [0, 1], or uint8 (H, W[, 3])."""
        self.images.append((name, as_uint8(image)))

    def save(self, folder: Path) -> list[Path]:
        """Write `NN-name.png` for every stage into `folder` (created); returns the paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, (name, image) in enumerate(self.images):
            path = folder / f"{i:02d}-{name}.png"
            Image.fromarray(image).save(path)
            paths.append(path)
        return paths


def as_uint8(image: npt.NDArray[np.generic]) -> U8:
    """A bool mask, a float image in [0, 1] or a uint8 image as uint8 (H, W) or (H, W, 3)."""
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * np.uint8(255)
    if image.dtype != np.uint8:
        return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.asarray(
        image.squeeze(-1) if image.ndim == 3 and image.shape[2] == 1 else image, np.uint8
    )


def load_rgb(source: ImageLike, max_pixels: int = MAX_PIXELS) -> U8:
    """Any `ImageLike` → (H, W, 3) uint8 RGB, transparency on white (`open_image`)."""
    return np.asarray(open_image(source, "RGB", max_pixels), dtype=np.uint8)


def working_image(rgb: U8, config: PreprocessConfig) -> U8:
    """Resize, aspect kept, to the area of a `work_size` × `work_size` image (300×300 in
    "Letter Recognition"); refuses images too small to read.

    By area, not by the longer side: a square letter gets exactly 300×300, while a long line of
    text keeps letters tall enough that thin strokes survive binarisation (fitting a two-line
    sign into 300 px would leave its letters 20 px tall). The longer side stays within 8 ×
    `work_size`, which bounds the work of a very long strip.
    """
    h, w = rgb.shape[:2]
    if min(h, w) < config.min_side:
        raise ImageError(
            f"the image is {w}x{h}; each side must be at least {config.min_side} pixels"
        )
    scale = min(config.work_size / math.sqrt(h * w), 8 * config.work_size / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(rgb).resize(size, resample), dtype=np.uint8)


def kmeans(
    pixels: npt.NDArray[np.float32], k: int, iterations: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Lloyd's K-means on (N, 3) colours → (labels (N,), centres (k, 3)).

    Deterministic farthest-point start: the first centre is the commonest colour (16 levels per
    channel; the background's, as it covers most pixels); each next one is the mean of the 0.1 %
    of pixels farthest from every centre so far, so a small letter gets a centre even on a
    striped or shaded background (quantile or random starts would split the background instead),
    and a lone hot pixel cannot.
    An empty cluster keeps its centre.
    """
    centres = np.empty((k, 3), dtype=np.float32)
    bins = (pixels.astype(np.int64) // 16) @ np.array([256, 16, 1])  # 16 levels per channel
    centres[0] = pixels[bins == np.bincount(bins).argmax()].mean(0)
    nearest = np.full(len(pixels), np.inf, dtype=np.float32)
    for j in range(1, k):
        nearest = np.minimum(nearest, ((pixels - centres[j - 1]) ** 2).sum(1))
        far = nearest >= np.quantile(nearest, 0.999)
        centres[j] = pixels[far].mean(0)
    labels = np.full(len(pixels), -1, dtype=np.intp)
    for _ in range(iterations):
        # |x - c|² = |x|² - 2 x·c + |c|²; |x|² is the same for every c, so it is left out.
        dist = (centres * centres).sum(1)[None, :] - 2.0 * pixels @ centres.T  # (N, k)
        new = dist.argmin(1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = pixels[labels == j]
            if len(members):
                centres[j] = members.mean(0)
    return labels, centres


def binarise(rgb: U8, config: PreprocessConfig, stages: Stages | None = None) -> Mask:
    """(H, W, 3) uint8 → (H, W) bool ink mask by K-means on colour; background = the larger
    cluster. With k > 2, every cluster nearer the background centre than the ink centre (the
    centre farthest from the background) counts as background too.

    Raises BlankImageError for a blank image (one colour, or ink too faint), ImageError for one
    that is mostly ink (noise or texture: not letters on a background).
    """
    h, w = rgb.shape[:2]
    labels, centres = kmeans(rgb.reshape(-1, 3).astype(np.float32), config.k, config.iterations)
    counts = np.bincount(labels, minlength=config.k)
    back = int(counts.argmax())
    to_back = np.linalg.norm(centres - centres[back], axis=1)
    ink_centre = int(to_back.argmax())
    if counts[ink_centre] == 0 or to_back[ink_centre] < config.min_contrast:
        raise BlankImageError(
            "the image is one colour (blank, or all ink): no ink differs from the background by "
            f"{config.min_contrast:g} or more"
        )
    to_ink = np.linalg.norm(centres - centres[ink_centre], axis=1)
    is_ink = to_ink < to_back
    ink = is_ink[labels].reshape(h, w)
    if stages is not None:
        stages.add("kmeans", centres[labels].reshape(h, w, 3).astype(np.uint8))
        stages.add("binary", ink)
    fraction = float(ink.mean())
    if fraction > config.max_ink:
        raise ImageError(
            f"ink covers {100 * fraction:.0f}% of the image: it is not letters on a background "
            f"(at most {100 * config.max_ink:.0f}%)"
        )
    return ink


def crop_to_ink(mask: Mask) -> Mask:
    """The smallest rectangle of `mask` holding all its ink; ImageError when there is none."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        raise BlankImageError("the image is blank: no ink found")
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def pad_square(image: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """Pad (H, W) with background (zeros) to a centred square, so resizing keeps the aspect."""
    h, w = image.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    out = np.zeros((side, side), dtype=image.dtype)
    out[top : top + h, left : left + w] = image
    return out


def resize_float(image: npt.NDArray[np.float32], side: int) -> npt.NDArray[np.float32]:
    """Resize a square float image to side × side: area averaging down (anti-aliased strokes, as
    EMNIST's downsampling made them), bilinear up."""
    resample = Image.Resampling.BOX if image.shape[0] >= side else Image.Resampling.BILINEAR
    small = Image.fromarray(image.astype(np.float32), mode="F").resize((side, side), resample)
    return np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0)


def place(
    letter: npt.NDArray[np.float32], side: int, centre: Literal["mass", "box"]
) -> npt.NDArray[np.float32]:
    """Paste a (b, b) letter into a (side, side) frame, its mass or box centre at the middle;
    the shift is clamped to keep a pixel of margin, so no ink leaves the frame or touches it."""
    b = letter.shape[0]
    start = (side - b) / 2.0
    top = left = start
    mass = float(letter.sum())
    if centre == "mass" and mass > 0:
        ys, xs = np.indices(letter.shape, dtype=np.float32)
        top = side / 2.0 - float((ys * letter).sum()) / mass - 0.5
        left = side / 2.0 - float((xs * letter).sum()) / mass - 0.5
    margin = 1 if side - b >= 2 else 0
    y0 = int(np.clip(round(top), margin, side - b - margin))
    x0 = int(np.clip(round(left), margin, side - b - margin))
    out = np.zeros((side, side), dtype=np.float32)
    out[y0 : y0 + b, x0 : x0 + b] = letter
    return out


def gaussian_blur(image: npt.NDArray[np.float32], sigma: float) -> npt.NDArray[np.float32]:
    """Separable Gaussian blur with zero (background) padding; sigma 0 returns a copy."""
    if sigma <= 0:
        return image.copy()
    radius = max(1, int(np.ceil(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(image, radius)
    rows = np.apply_along_axis(np.convolve, 1, padded, kernel, mode="valid")
    return np.apply_along_axis(np.convolve, 0, rows, kernel, mode="valid").astype(np.float32)


def to_emnist(
    mask: Mask, config: PreprocessConfig, stages: Stages | None = None, name: str = "letter"
) -> U8:
    """One letter's ink mask (any size) → (side, side) uint8, white ink on black, as EMNIST.

    Crop to the ink, pad to a square, shrink into a `box` × `box` square, centre it in the frame
    (by mass or box) and blur; every step is recorded in `stages` under `name`.
    """
    square = pad_square(crop_to_ink(mask))
    boxed = resize_float(square.astype(np.float32), config.box)
    framed = place(boxed, config.side, config.centre)
    blurred = gaussian_blur(framed, config.blur)
    peak = float(blurred.max())
    out = as_uint8(blurred / peak if peak > 0 else blurred)
    if stages is not None:
        stages.add(f"{name}-square", square)
        stages.add(f"{name}-box{config.box}", framed)
        stages.add(f"{name}-blur", out)
    return out


def naive_28(source: ImageLike, side: int = 28) -> U8:
    """The failure of "Letter Recognition", kept for comparison: grayscale, resize to side × side,
    nothing else."""
    rgb = load_rgb(source)
    gray = Image.fromarray(rgb).convert("L").resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(gray, dtype=np.uint8)
