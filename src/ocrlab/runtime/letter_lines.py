"""One image → the working image and its lines of ink pieces: the letter reader's first steps.

`find_lines` decodes, resizes, binarises and segments an image with a `LetterConfig`; the letter
reader (`ocrlab.read.letters`) then reads the pieces, and the letters trainers' printed letters
(`ocrlab.train.printed`) go through the very same steps. NumPy and Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ocrlab.data.images import ImageLike
from ocrlab.errors import BlankImageError, ImageError
from ocrlab.runtime.binarise import PreprocessConfig, Stages, binarise, load_rgb, working_image
from ocrlab.runtime.segment import Piece, SegmentConfig, segment_lines

MAX_LETTERS = 256
"""Most letters read from one image: more is a texture, not text, and would only cost time."""


@dataclass(frozen=True)
class LetterConfig:
    """The letter reader's preprocessing and segmentation settings."""

    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)


def find_lines(
    image: ImageLike, config: LetterConfig, stages: Stages | None = None
) -> tuple[np.ndarray, list[list[Piece]]]:
    """Decode, resize, binarise and cut an image into lines of pieces → (working image, lines)."""
    rgb = load_rgb(image, config.preprocess.max_pixels)
    work = working_image(rgb, config.preprocess)
    if stages is not None:
        stages.add("input", rgb)
        stages.add("working", work)
    lines = segment_lines(binarise(work, config.preprocess, stages), config.segment)
    count = sum(len(line) for line in lines)
    if count == 0:
        raise BlankImageError("the image is blank: no ink found")
    if count > MAX_LETTERS:
        raise ImageError(f"found {count} pieces of ink, more than {MAX_LETTERS} letters")
    return work, lines
