"""Find a reader by name: the shipped models, a run folder, an MLP file or an exported `.onnx`.

Names: 'general' (or 'default'), the general reader shipped in `ocrlab/read/assets/general/`, a
CRNN-CTC trained on the CAPTCHA zoo that reads one line of digits and letters in any font, style and
shape; 'words', the sequence recogniser of "Breaking CAPTCHA" shipped in
`ocrlab/read/assets/default/`, trained on ocrlab's hard set; 'letters', the letters CNN shipped in
`ocrlab/read/assets/letters/`, read through the letter reader (preprocess → segment → 28×28);
'captcha', a sequence recogniser for captcha_images_v2-style CAPTCHAs (`assets/captcha/`);
'auto', which picks between them per image (`AutoReader`). Anything else is a path: a run folder
(its `checkpoint.json` says the kind), an MLP's `model.npz` (or its run folder) or an `.onnx` file.
So `ocrlab read IMAGE` works offline right after install.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from ocrlab.errors import BlankImageError, DatasetError, ImageError
from ocrlab.read.letters import LetterConfig, LetterReader, MLPLetters
from ocrlab.read.predictor import ImageLike, Predictor, Reading
from ocrlab.read.preprocess import Stages, load_rgb

NAMES = ("general", "words", "letters", "captcha", "auto")


class Reader(Protocol):
    def read(self, images: Sequence[ImageLike], top_k: int = 5) -> list[Reading]: ...


def default_model_dir() -> Path:
    """The run folder of the word model shipped inside the package."""
    return Path(str(resources.files("ocrlab.read").joinpath("assets", "default")))


def letters_model_dir() -> Path:
    """The run folder of the letters CNN shipped inside the package."""
    return Path(str(resources.files("ocrlab.read").joinpath("assets", "letters")))


def general_model_dir() -> Path:
    """The run folder of the general reader shipped inside the package (any text line)."""
    return Path(str(resources.files("ocrlab.read").joinpath("assets", "general")))


def captcha_model_dir() -> Path:
    """The run folder of the CAPTCHA reader shipped inside the package (captcha_images_v2 style)."""
    return Path(str(resources.files("ocrlab.read").joinpath("assets", "captcha")))


class AutoReader:
    """Letters or words, chosen per image.

    The rule: the letter reader segments the image first. One letter, or several lines, stay
    with the letter reader (the word model spells one line and never saw a lone letter). For one
    line of several letters both read it and the reading with the higher confidence per
    character (geometric mean; the word model's end token counts as a character) wins. If the
    letter reader refuses an image that is not blank (say a textured CAPTCHA with no clean ink),
    the word model reads it. Without a word model, it is the letter reader.
    """

    def __init__(self, letters: LetterReader, words: Reader | None) -> None:
        self.letters, self.words = letters, words

    def read(self, images: Sequence[ImageLike], top_k: int = 5) -> list[Reading]:
        return [self.read_one(image, top_k) for image in images]

    def read_one(self, image: ImageLike, top_k: int = 5, stages: Stages | None = None) -> Reading:
        try:
            by_letters = self.letters.read_one(image, top_k, stages)
        except BlankImageError:
            raise
        except ImageError:
            if self.words is None:
                raise
            return self.words.read([image], top_k)[0]
        lines = by_letters.text.count("\n") + 1
        if self.words is None or len(by_letters.letters) == 1 or lines > 1:
            return by_letters
        by_words = self.words.read([image], top_k)[0]
        per_letter = by_letters.confidence ** (1 / len(by_letters.letters))
        per_char = by_words.confidence ** (1 / (len(by_words.text) + 1))
        return by_words if per_char > per_letter else by_letters


def _shipped(path: Path, name: str) -> Path:
    if not (path / "checkpoint.json").is_file():
        raise DatasetError(
            f"the {name} model is not shipped with this install ({path}); train one and pass "
            "its run folder to --model"
        )
    return path


def load_reader(
    name: str | Path, device: str = "auto", config: LetterConfig | None = None
) -> Reader:
    """'words' ('default'), 'letters', 'auto', a run folder, an MLP `.npz` or an `.onnx` file →
    something with `read(images, top_k)`; letter models come with the letter reader."""
    if str(name) == "auto":
        letters = LetterReader(
            Predictor.load(_shipped(letters_model_dir(), "letters"), device), config
        )
        words_dir = default_model_dir()
        words = (
            Predictor.load(words_dir, device) if (words_dir / "checkpoint.json").is_file() else None
        )
        return AutoReader(letters, words)
    if str(name) in ("default", "general"):
        path = _shipped(general_model_dir(), "general")
    elif str(name) == "words":
        path = _shipped(default_model_dir(), "words")
    elif str(name) == "letters":
        path = _shipped(letters_model_dir(), "letters")
    elif str(name) == "captcha":
        path = _shipped(captcha_model_dir(), "captcha")
    else:
        path = Path(name)
    if path.suffix == ".onnx":
        from ocrlab.export import OnnxPredictor

        if not path.is_file():
            raise DatasetError(f"ONNX model not found: {path}")
        return OnnxPredictor(path)
    if not path.exists():
        raise DatasetError(f"model not found: {path}")
    if path.suffix == ".npz" or (path / "model.npz").is_file():
        return LetterReader(MLPLetters(path), config)
    predictor = Predictor.load(path, device)
    return LetterReader(predictor, config) if predictor.kind == "letters" else predictor


def read_with_stages(reader: Reader, image: ImageLike, top_k: int = 5) -> tuple[Reading, Stages]:
    """Read one image and keep its preprocessing stages: the letter pipeline's every step, or
    the input and the model input for the other readers."""
    stages = Stages()
    if isinstance(reader, LetterReader | AutoReader):
        return reader.read_one(image, top_k, stages), stages
    reading = reader.read([image], top_k)[0]
    stages.add("input", load_rgb(image))
    if isinstance(reader, Predictor):
        stages.add("model-input", np.asarray(reader.preprocess([image])[0]))
    return reading, stages
