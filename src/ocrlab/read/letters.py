"""The letter reader: image → preprocess → segment → a 28×28 letter model → one `Reading`.

Any model that maps EMNIST-like (N, 28, 28, 1) uint8 batches to (N, 26) probabilities reads
letters: the `letters_cnn` Predictor (kind "letters") or the from-scratch NumPy MLP (`MLPLetters`,
a run folder of `ocrlab train mlp`). A Reading's `chars` carries each letter's probability (line
breaks and spaces, which the segmenter decides, carry 1.0), `letters` each letter's top-k, and
`topk` the k most probable whole texts under independent letters (a beam over the per-letter
lists). Imports NumPy, Pillow, `ocrlab.read` (not its torch Predictor), `ocrlab.data`, the letters
preprocessing of `ocrlab.runtime` (binarise, segment, letter_lines) and, for the
MLP, `ocrlab.scratch`: reading letters with the NumPy MLP never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw

from ocrlab.data.emnist import LETTERS
from ocrlab.errors import DatasetError
from ocrlab.read.reading import ImageLike, Reading
from ocrlab.runtime.binarise import Stages, to_emnist
from ocrlab.runtime.letter_lines import MAX_LETTERS, LetterConfig, find_lines
from ocrlab.runtime.segment import Piece, cut_candidates, line_height, spaces, sub_piece

__all__ = ["MAX_LETTERS", "LetterConfig", "LetterModel", "LetterReader", "MLPLetters", "find_lines"]


class LetterModel(Protocol):
    """Anything that scores EMNIST-like letters: (N, 28, 28, 1) uint8 → (N, len(classes))."""

    @property
    def classes(self) -> list[str]: ...

    def probabilities(self, batch: np.ndarray) -> np.ndarray: ...


class MLPLetters:
    """A from-scratch NumPy MLP (`model.npz` of `ocrlab train mlp`) as a `LetterModel`."""

    def __init__(self, path: Path) -> None:
        from ocrlab.scratch.mlp import MLPClassifier

        file = path / "model.npz" if path.is_dir() else path
        try:
            self.clf = MLPClassifier.load(file)
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot load the MLP {file}: {exc}") from None
        self.classes = list(LETTERS)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        features = batch.reshape(len(batch), -1).astype(np.float32) / np.float32(255.0)
        proba = np.zeros((len(batch), len(self.classes)), dtype=np.float32)
        proba[:, self.clf.classes_] = self.clf.predict_proba(features)
        return proba


def draw_boxes(work: np.ndarray, pieces: list[Piece]) -> np.ndarray:
    """The working image with each letter's box drawn and numbered in reading order."""
    im = Image.fromarray(work).convert("RGB")
    draw = ImageDraw.Draw(im)
    for i, p in enumerate(pieces):
        draw.rectangle((p.left - 1, p.top - 1, p.right, p.bottom), outline=(230, 30, 140), width=2)
        draw.text((p.left, max(0, p.top - 11)), str(i + 1), fill=(230, 30, 140))
    return np.asarray(im, dtype=np.uint8)


class LetterReader:
    """Reads letters and multi-letter images with a 28×28 letter model; see the module doc."""

    def __init__(self, model: LetterModel, config: LetterConfig | None = None) -> None:
        self.model, self.config = model, config or LetterConfig()
        self.classes = list(model.classes)

    def read(self, images: Sequence[ImageLike], top_k: int = 5) -> list[Reading]:
        """One Reading per image (see `read_one`)."""
        return [self.read_one(image, top_k) for image in images]

    def read_one(self, image: ImageLike, top_k: int = 5, stages: Stages | None = None) -> Reading:
        """Read one image; every intermediate image goes into `stages` when given.

        A piece wider than `segment.wide` line heights may be letters that touch: `split` lets
        the model choose how to cut it.
        """
        work, lines = find_lines(image, self.config, stages)
        chosen: list[Piece] = []
        probs: list[np.ndarray] = []
        separators: list[str] = []
        for gap, (piece, height) in zip(self._gaps(lines), self._pieces(lines), strict=True):
            parts, part_probs = self.split(piece, height)
            chosen += parts
            probs.append(part_probs)
            separators += [gap] + [""] * (len(parts) - 1)
        if stages is not None:
            stages.add("segments", draw_boxes(work, chosen))
            for i, p in enumerate(chosen):
                to_emnist(p.mask, self.config.preprocess, stages, f"letter{i + 1}")
        return self.reading(np.concatenate(probs), separators, top_k)

    @staticmethod
    def _pieces(lines: list[list[Piece]]) -> list[tuple[Piece, float]]:
        return [(p, line_height(line)) for line in lines for p in line]

    def _probabilities(self, pieces: list[Piece]) -> np.ndarray:
        batch = np.stack([to_emnist(p.mask, self.config.preprocess) for p in pieces])
        return self.model.probabilities(batch[..., None])

    def split(self, piece: Piece, height: float) -> tuple[list[Piece], np.ndarray]:
        """A piece as letters, with their probabilities (n, K).

        Up to `segment.wide` line heights a piece is one letter. A wider one is cut at the
        columns of `cut_candidates` into the letters whose product of best probabilities is
        highest, each letter costing `segment.split_penalty` more (dynamic programming over the
        cuts; no letter wider than `segment.widest` line heights): a W stays a W, touching 'AB'
        become A and B, as the model judges them.
        """
        seg = self.config.segment
        if piece.width <= seg.wide * height:
            return [piece], self._probabilities([piece])
        cuts = cut_candidates(piece, height)
        spans = [
            (i, j, part)
            for i in range(len(cuts))
            for j in range(i + 1, len(cuts))
            if cuts[j] - cuts[i] <= seg.widest * height
            and (part := sub_piece(piece, cuts[i], cuts[j])) is not None
        ]
        probs = self._probabilities([part for _, _, part in spans])
        score = np.log(np.maximum(probs.max(1), 1e-12)) - seg.split_penalty
        best = np.full(len(cuts), -np.inf)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(-1, -1)] * len(cuts)
        for n, (i, j, _) in enumerate(spans):  # spans are ordered by start, so best[i] is final
            if best[i] + score[n] > best[j]:
                best[j], back[j] = best[i] + score[n], (i, n)
        if not np.isfinite(best[-1]):
            return [piece], self._probabilities([piece])
        picked, at = [], len(cuts) - 1
        while at > 0:
            at, n = back[at]
            picked.append(n)
        picked.reverse()
        return [spans[n][2] for n in picked], probs[picked]

    def _gaps(self, lines: list[list[Piece]]) -> list[str]:
        """What precedes each piece: a line break, a space or nothing."""
        space = self.config.segment.space
        return [
            gap
            for n, line in enumerate(lines)
            for gap in ["\n" if n else "", *(" " if s else "" for s in spaces(line, space))]
        ]

    def reading(self, probs: np.ndarray, separators: list[str], top_k: int) -> Reading:
        """A Reading from per-letter probabilities (N, K) and the separators before each letter."""
        k = max(1, min(top_k, len(self.classes)))
        letters = []
        for row in probs:
            best = np.argsort(-row, kind="stable")[:k]
            letters.append([(self.classes[j], float(row[j])) for j in best])
        chars: list[tuple[str, float]] = []
        for sep, options in zip(separators, letters, strict=True):
            chars += [(sep, 1.0)] if sep else []
            chars.append(options[0])
        text = "".join(c for c, _ in chars)
        confidence = float(np.prod([options[0][1] for options in letters]))
        return Reading(text, confidence, chars, k_best(letters, separators, k), letters)


def k_best(
    letters: list[list[tuple[str, float]]], separators: list[str], k: int
) -> list[tuple[str, float]]:
    """The k most probable texts when letters are independent: a beam of width k over the
    per-letter top-k lists, which is exact because each list is sorted."""
    beam: list[tuple[str, float]] = [("", 1.0)]
    for sep, options in zip(separators, letters, strict=True):
        grown = [(text + sep + c, p * q) for text, p in beam for c, q in options]
        beam = sorted(grown, key=lambda t: -t[1])[:k]
    return beam
