"""The one preprocessing per model kind, shared by training, every reader, ONNX and the server.

`PREPROCESS[kind](image, size, mode)` turns any `ImageLike` into the (H, W, C) uint8 array the
model of that kind was trained on; `scale` then maps a uint8 batch to the float input in [-1, 1],
exactly as the training engine's `to_input` does on the device. For the classifier and the
sequence model that is `ocrlab.data.images.decode` (convert to the model's mode, then resize),
the very function the data layer loads training sets with. A letters model's pixels here are
the naive baseline; the letter reader (`ocrlab.read.letters`) makes its 28×28 letters itself.
A new kind adds one line to `PREPROCESS`; `prepare` gives a model's own (a line model reads its
lines through the optional steps it learnt with: `ocrlab.runtime.line.LineSteps`).
NumPy and Pillow only: the ONNX and NumPy readers never import torch through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from ocrlab.data.images import ImageLike, Prepare, decode
from ocrlab.errors import DatasetError
from ocrlab.runtime.line import GENERAL, HEIGHT, WIDTH, LineSteps, to_line


def line(
    image: ImageLike, size: tuple[int, int] | None, mode: str, steps: LineSteps = GENERAL
) -> np.ndarray:
    """The general reader's line: decoded in colour, then grey, aspect kept, padded (`to_line`)."""
    height, width = size or (HEIGHT, WIDTH)
    return to_line(decode(image, None, "RGB"), height, width, steps)[..., None]


PREPROCESS: dict[str, Prepare] = {
    "classifier": decode,
    "seq": decode,
    "letters": decode,
    "line": line,
}


def prepare(kind: str, steps: LineSteps = GENERAL) -> Prepare:
    """The preprocessing of a model of `kind`; a line model's through `steps`, those it learnt
    with (`Checkpoint.steps`)."""
    if kind not in PREPROCESS:
        raise DatasetError(f"no preprocessing for a {kind!r} model; known: {sorted(PREPROCESS)}")
    if kind != "line" or steps == GENERAL:
        return PREPROCESS[kind]
    return partial(line, steps=steps)


def preprocess(
    kind: str,
    images: Sequence[ImageLike],
    size: tuple[int, int],
    mode: str,
    steps: LineSteps = GENERAL,
) -> np.ndarray:
    """Images → (N, H, W, C) uint8 batch through the preprocessing of model `kind` (a line
    model's through `steps`)."""
    step = prepare(kind, steps)
    out = np.empty((len(images), *size, 1 if mode == "L" else 3), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = step(image, size, mode)
    return out


def scale(batch: np.ndarray) -> np.ndarray:
    """(N, H, W, C) uint8 → (N, C, H, W) float32 in [-1, 1], bit for bit as `to_input`."""
    x = np.ascontiguousarray(batch.transpose(0, 3, 1, 2)).astype(np.float32)
    return x / np.float32(127.5) - np.float32(1.0)
