"""`AutoReader`: letters or words, chosen per image, from the letter reader and a word reader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ocrlab.errors import BlankImageError, ImageError
from ocrlab.read.letters import LetterReader
from ocrlab.read.reading import ImageLike, Reading
from ocrlab.runtime.binarise import Stages


class Reader(Protocol):
    """What `ocrlab.load` returns: one Reading per image; greedy unless `top_k` > 1."""

    def read(self, images: Sequence[ImageLike], top_k: int = 1) -> list[Reading]: ...


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

    def read(self, images: Sequence[ImageLike], top_k: int = 1) -> list[Reading]:
        return [self.read_one(image, top_k) for image in images]

    def read_one(self, image: ImageLike, top_k: int = 1, stages: Stages | None = None) -> Reading:
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
