"""The general reader's one preprocessing: grey, the text line's shape kept, one fixed size.

Every path (`ocrlab read`, the ONNX reader, the server, fine-tuning, the general trainer's
validation) turns an image into the model's input through `to_line`, so one image gives one
tensor everywhere. The image is converted to grey (ITU-R 601-2 luma), resized to `HEIGHT` rows
keeping its aspect ratio, and padded on the right with the median of its border, the likeliest
background colour, up to `WIDTH` columns (a wider line is squeezed to it). Stretching every image
to one box, as the "Breaking CAPTCHA" readers did, turns a 3-letter crop and a 12-letter CAPTCHA
into different fonts. Imports NumPy and Pillow only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from PIL import Image

T = TypeVar("T")

HEIGHT, WIDTH = 32, 1024
"""A line is read at up to 32 × 1024 (aspect 32:1, some 60 characters); each is cut to its text's
width before the model runs (`width_buckets`), so the canvas costs memory, not time. Squeezed
into 256 columns, as lines were before, 16-40 characters read 23.7 % exact instead of 72.0 %
(docs/general.md, "Long lines")."""
BUCKET = 32
"""Width step of the column buckets a line is read at (`width_buckets`)."""
MARGIN = 16
"""Columns of background a line keeps right of its text when read in its bucket."""
VIEWS = (
    (1.0, 1.0), (0.8, 1.0), (0.9, 1.0), (1.1, 1.0), (1.25, 1.0), (1.0, 1 / 1.2), (1.0, 1 / 1.4)
)  # fmt: skip
"""The (across, down) scales of a thorough reading's views (`view`): the line itself, its text
narrower and wider, and its text smaller in more background. A reader sees a glyph at one size
whatever the font's width; a view where the glyphs look like its training text reads surer."""


def line_width(height: int, width: int, out_height: int = HEIGHT, out_width: int = WIDTH) -> int:
    """Columns the image's ink occupies after resizing to `out_height` rows, aspect kept."""
    return max(1, min(out_width, round(width * out_height / max(height, 1))))


def to_line(image: np.ndarray, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 → (height, width) uint8."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    im = Image.fromarray(image)
    if im.mode != "L":
        im = im.convert("L")
    w = line_width(im.height, im.width, height, width)
    if (im.height, im.width) != (height, w):
        im = im.resize((w, height), Image.Resampling.BILINEAR)
    grey = np.asarray(im, dtype=np.uint8)
    out = np.empty((height, width), np.uint8)
    out[:, :w] = grey
    if w < width:
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        out[:, w:] = np.uint8(np.median(border))
    return out


def view(lines: np.ndarray, across: float, down: float) -> np.ndarray:
    """(N, H, W, 1) lines (`to_line`) with their text scaled by `down` (aspect kept, centred in
    rows of background) and then by `across` in width; the padding stays the line's own."""
    if not (0 < down <= 1 and across > 0):
        raise ValueError(
            f"a view shrinks (0 < down <= 1) and scales (across > 0), got {down}, {across}"
        )
    _, h, width, _ = lines.shape
    rows = max(1, round(h * down))
    top = (h - rows) // 2
    out = np.empty_like(lines)
    for i, (line, w) in enumerate(zip(lines[..., 0], text_widths(lines), strict=True)):
        if w < width:
            out[i] = line[0, -1]
        else:
            out[i] = np.median(np.concatenate([line[0], line[-1], line[:, 0], line[:, -1]]))
        cols = max(1, min(width, round(w * across * down)))
        text = Image.fromarray(np.ascontiguousarray(line[:, :w]))
        out[i, top : top + rows, :cols, 0] = np.asarray(
            text.resize((cols, rows), Image.Resampling.BILINEAR)
        )
    return out


def text_widths(lines: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Columns of each (N, H, W, 1) line before `to_line`'s flat padding on the right (all W
    when the last column is not one colour: the text reaches the edge). Works through `chunk`
    lines at a time, so its temporaries stay small whatever N."""
    out = np.empty(len(lines), np.int64)
    for s in range(0, len(lines), chunk):
        grey = lines[s : s + chunk, :, :, 0]
        differs = (grey != grey[:, :, -1:]).any(axis=1)  # (n, W): unlike the last column
        padded = (grey[:, :, -1] == grey[:, :1, -1]).all(axis=1)
        width = np.where(differs.any(1), lines.shape[2] - np.argmax(differs[:, ::-1], 1), 1)
        out[s : s + chunk] = np.where(padded, width, lines.shape[2])
    return out


def read_widths(lines: np.ndarray) -> np.ndarray:
    """The columns each (N, H, W, 1) line is read at: its text plus `MARGIN`, rounded up to a
    multiple of `BUCKET`, at most W.

    Most text fills a fraction of the padded line (a 200 × 50 CAPTCHA takes 128 of 1,024
    columns), and the CNN's and LSTM's cost is their width, so each line is read cut, for
    readings within about a point of the whole line's (docs/general.md). The width depends on the
    line alone, never on its batch: an image reads the same in any company.
    """
    return np.minimum(lines.shape[2], -(-(text_widths(lines) + MARGIN) // BUCKET) * BUCKET)


def width_buckets(lines: np.ndarray, batch_size: int) -> list[tuple[np.ndarray, int]]:
    """Groups of at most `batch_size` (N, H, W, 1) lines of one reading width (`read_widths`),
    each with that width."""
    cols = read_widths(lines)
    groups = []
    for width in np.unique(cols):
        rows = np.flatnonzero(cols == width)
        groups += [(rows[s : s + batch_size], int(width)) for s in range(0, len(rows), batch_size)]
    return groups


def read_in_buckets(
    lines: np.ndarray, read: Callable[[np.ndarray], Sequence[T]], batch_size: int = 64
) -> list[T]:
    """`read` (cut lines (n, H, w, 1) → one result per line) applied bucket by bucket
    (`width_buckets`), the results back in the order of `lines`."""
    results: dict[int, T] = {}
    for rows, cols in width_buckets(lines, batch_size):
        results.update(zip(rows.tolist(), read(lines[rows, :, :cols]), strict=True))
    return [results[i] for i in range(len(lines))]
