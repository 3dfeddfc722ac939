"""`LinesReader`: an image of several text lines through a reader that spells one.

The general reader reads one line; shown two, it reads neither. This cuts an image into its lines
with the letter reader's own segmentation (`ocrlab.runtime.letter_lines.find_lines`: K-means ink,
connected pieces, pieces grouped into rows), reads every line's box in one batch, and joins the
readings top to bottom with a newline (a separator of probability 1 in `chars`, as the letter
reader writes it). An image of one line, one whose rows overlap (a CAPTCHA's strike-through
curve, a staggered baseline: lines of text never overlap), or one the segmentation cannot cut (a
textured CAPTCHA with no clean ink) is read whole, exactly as without it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from ocrlab.errors import ImageError
from ocrlab.read.auto import AutoReader, Reader
from ocrlab.read.letters import LetterReader
from ocrlab.read.reading import ImageLike, Reading
from ocrlab.runtime.binarise import load_rgb
from ocrlab.runtime.letter_lines import LetterConfig, find_lines
from ocrlab.runtime.segment import Piece

MARGIN = 0.25
"""Background kept around a line's ink, as a share of the line's height."""


def by_lines(reader: Reader) -> Reader:
    """`reader` reading line by line: a `LinesReader`, or the letter readers themselves, which
    cut an image into lines of letters on their own."""
    return reader if isinstance(reader, LetterReader | AutoReader) else LinesReader(reader)


class LinesReader:
    """`reader` line by line. A joined reading's confidence is the product of its lines', its
    `letters` (for a letter reader) are the lines' in order, and its `topk` holds the joined best
    reading only: alternatives of separate lines do not combine into a short list."""

    def __init__(self, reader: Reader, config: LetterConfig | None = None) -> None:
        self.reader, self.config = reader, config or LetterConfig()

    def read(self, images: Sequence[ImageLike], top_k: int = 1) -> list[Reading]:
        """One batch for every line of every image; an image of one line is read as given."""
        return self.read_cut(images, [self.lines(image) for image in images], top_k)

    def read_cut(
        self, images: Sequence[ImageLike], parts: Sequence[list[np.ndarray]], top_k: int = 1
    ) -> list[Reading]:
        """`read`, each image's lines already cut by `lines`: a caller that shows the crops
        (the server's debug stages) cuts once."""
        inputs = [x for image, crops in zip(images, parts, strict=True)
                  for x in ([image] if len(crops) == 1 else crops)]  # fmt: skip
        readings = iter(self.reader.read(inputs, top_k))
        return [_join([next(readings) for _ in crops]) if len(crops) > 1 else next(readings)
                for crops in parts]  # fmt: skip

    def lines(self, image: ImageLike) -> list[np.ndarray]:
        """The image's lines, top to bottom, as crops of the decoded image (one: the image)."""
        rgb = load_rgb(image, self.config.preprocess.max_pixels)
        try:
            work, lines = find_lines(rgb, self.config)
        except ImageError:
            return [rgb]
        boxes = [_box(line) for line in lines]
        if len(boxes) < 2 or any(a[1] > b[0] for a, b in itertools.pairwise(boxes)):
            return [rgb]  # lines of text do not overlap: a CAPTCHA's curve or blob does
        sy, sx = rgb.shape[0] / work.shape[0], rgb.shape[1] / work.shape[1]
        crops = []
        for top, bottom, left, right in boxes:
            pad = MARGIN * (bottom - top)
            rows = slice(max(0, math.floor((top - pad) * sy)), math.ceil((bottom + pad) * sy))
            cols = slice(max(0, math.floor((left - pad) * sx)), math.ceil((right + pad) * sx))
            crops.append(rgb[rows, cols])
        return crops


def _box(line: list[Piece]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a line's pieces."""
    return (min(p.top for p in line), max(p.bottom for p in line),
            min(p.left for p in line), max(p.right for p in line))  # fmt: skip


def _join(readings: list[Reading]) -> Reading:
    chars: list[tuple[str, float]] = []
    for n, r in enumerate(readings):
        chars += ([("\n", 1.0)] if n else []) + r.chars
    text = "\n".join(r.text for r in readings)
    confidence = float(np.prod([r.confidence for r in readings]))
    letters = [top for r in readings for top in r.letters]
    return Reading(text, confidence, chars, [(text, confidence)], letters)
