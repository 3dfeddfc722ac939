"""`load(name_or_path)`: the one resolver every entry point uses (Python, CLI, server).

A shipped name ('default', 'words', 'captcha', 'letters': `ocrlab.runtime.shipped.SHIPPED`),
'auto' (letters or words per image), a run folder (its `checkpoint.json` says the kind), an MLP's
`model.npz` (or its run folder) or an exported `.onnx` file → something with `read(images,
top_k)`. Letter models, whatever their format, read through the letter reader; that rule lives
here only. So `ocrlab read IMAGE` works offline right after install.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ocrlab.errors import DatasetError
from ocrlab.read.auto import AutoReader, Reader
from ocrlab.read.letters import LetterConfig, LetterReader, MLPLetters
from ocrlab.read.lines import LinesReader
from ocrlab.read.predictor import ImageLike, Predictor, Reading
from ocrlab.runtime.binarise import Stages, load_rgb
from ocrlab.runtime.line import read_widths
from ocrlab.runtime.shipped import AUTO, run_folder, shipped_folder

__all__ = ["Reader", "load", "read_with_stages"]


def load(
    name_or_path: str | Path, device: str = "auto", config: LetterConfig | None = None
) -> Reader:
    """Any model name or path → a reader (see the module doc); `config` tunes the letter reader."""
    if str(name_or_path) == AUTO:
        letters = LetterReader(Predictor.load(shipped_folder("letters"), device), config)
        words = _words_or_none(device)
        return AutoReader(letters, words)
    path = run_folder(name_or_path)
    if path.suffix == ".onnx":
        from ocrlab.read.onnx import OnnxPredictor

        onnx = OnnxPredictor(path)
        return LetterReader(onnx, config) if onnx.kind == "letters" else onnx
    if path.suffix == ".npz" or (path / "model.npz").is_file():
        return LetterReader(MLPLetters(path), config)
    predictor = Predictor.load(path, device)
    return LetterReader(predictor, config) if predictor.kind == "letters" else predictor


def _words_or_none(device: str) -> Reader | None:
    try:
        return Predictor.load(shipped_folder("words"), device)
    except DatasetError:
        return None


def read_with_stages(reader: Reader, image: ImageLike, top_k: int = 1) -> tuple[Reading, Stages]:
    """Read one image and keep its preprocessing stages: the letter pipeline's every step, or
    the input and the model input for the other readers."""
    stages = Stages()
    if isinstance(reader, LetterReader | AutoReader):
        return reader.read_one(image, top_k, stages), stages
    reading = reader.read([image], top_k)[0]
    stages.add("input", load_rgb(image))
    if isinstance(reader, LinesReader):
        for n, crop in enumerate(reader.lines(image), 1):
            stages.add(f"line{n}", crop)
    preprocess = getattr(reader, "preprocess", None)
    if preprocess is not None:
        batch = np.asarray(preprocess([image]))
        if getattr(reader, "kind", None) == "line":  # the columns the model reads, not 1,024
            batch = batch[:, :, : read_widths(batch)[0]]
        stages.add("model-input", batch[0])
    return reading, stages
