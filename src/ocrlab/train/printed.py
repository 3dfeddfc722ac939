"""Printed letters as EMNIST-like training images: `synth.letters` drawn, the letter reader's
preprocessing applied.

The letter models learn from EMNIST handwriting; `ocrlab train letters-cnn --digital N` adds N
printed letters per class, made here. Each goes through exactly what `ocrlab read --model letters`
does to an image (working size, K-means binarisation, segmentation, crop, square, box, blur), so
training and reading see the same kind of 28×28. They use the training fonts, colours and
backgrounds only; the letters-eval set keeps its own. A sample the preprocessing gets wrong (khaki
ink on kraft paper too alike to binarise, graph paper's grid taken for ink: the ink found is not
where the letter was drawn) is redrawn as sample i + 26·N·attempt, the same letter, so the set
stays deterministic. Imports NumPy and ocrlab's synth, data and read layers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import reduce

import numpy as np

from ocrlab.data.emnist import LetterSet
from ocrlab.errors import DatasetError, ImageError
from ocrlab.runtime.binarise import to_emnist
from ocrlab.runtime.letter_lines import LetterConfig, find_lines
from ocrlab.runtime.segment import merge
from ocrlab.synth.letters import printed_letter
from ocrlab.train.report import LetterSplits

ATTEMPTS = 8
MIN_IOU = 0.8
"""Least overlap between the ink found and the letter drawn for a sample to be kept."""


def printed_to_emnist(
    image: np.ndarray, box: tuple[int, int, int, int], config: LetterConfig
) -> np.ndarray | None:
    """One printed letter image → (28, 28) uint8 as the letter reader makes it (all pieces of
    ink are the letter: an i's dot, a j's hook); None when the ink found is not where the letter
    was drawn (a background the binarisation took for ink, such as graph paper's grid)."""
    work, lines = find_lines(image, config)
    piece = reduce(merge, [p for line in lines for p in line])
    scale = work.shape[0] / image.shape[0]
    found = (piece.top, piece.left, piece.bottom, piece.right)
    if _iou(found, tuple(v * scale for v in box)) < MIN_IOU:
        return None
    return to_emnist(piece.mask, config.preprocess)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (top, left, bottom, right) boxes."""
    h = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    w = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return h * w / max(area - h * w, 1e-9)


def printed_letters(
    per_class: int,
    seed: int,
    config: LetterConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> LetterSet:
    """`per_class` printed letters of each of A–Z as an EMNIST-like `LetterSet`."""
    config = config or LetterConfig()
    count = 26 * per_class
    images = np.empty((count, 28, 28), dtype=np.uint8)
    labels = np.empty(count, dtype=np.int64)
    for i in range(count):
        for attempt in range(ATTEMPTS):
            image, label, box = printed_letter(seed, i + count * attempt)
            try:
                letter = printed_to_emnist(image, box, config)
            except ImageError:  # blank, or the background binarised as ink
                continue
            if letter is not None:
                images[i] = letter
                break
        else:
            raise DatasetError(f"printed letter {i} could not be binarised in {ATTEMPTS} draws")
        labels[i] = label
        if progress is not None:
            progress(1)
    return LetterSet(images, labels, f"printed:{per_class}/class,seed={seed}")


def with_printed(data: LetterSplits, per_class: int, seed: int) -> LetterSplits:
    """`data` with `per_class` printed letters per class added to its training part only: the
    validation and test parts stay EMNIST's, comparable with runs without them."""
    if per_class <= 0:
        return data
    extra = printed_letters(per_class, seed)
    train = LetterSet(
        np.concatenate([data.train.images, extra.images]),
        np.concatenate([data.train.labels, extra.labels]),
        f"{data.train.source}+{extra.source}",
    )
    return dataclasses.replace(data, train=train)
