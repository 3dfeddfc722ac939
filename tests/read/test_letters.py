"""The letter reader: the failure of "Letter Recognition" (naive resize) against the pipeline,
readings with per-letter top-k, whole-or-split decisions, the k-best texts, the MLP adapter and
`auto`."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from ocrlab.data.emnist import LETTERS
from ocrlab.errors import BlankImageError, ImageError
from ocrlab.read.auto import AutoReader
from ocrlab.read.letters import LetterReader, MLPLetters, k_best
from ocrlab.read.predictor import Reading
from ocrlab.read.resolve import load, read_with_stages
from ocrlab.runtime.binarise import naive_28
from ocrlab.scratch.mlp import MLPClassifier

Draw = Callable[..., np.ndarray]
SCHEMES = [((25, 110, 55), (190, 214, 245)), ((242, 242, 232), (40, 48, 62))]


def test_the_seeds_naive_resize_fails_where_the_pipeline_reads(
    templates: object, draw: Draw
) -> None:
    reader = LetterReader(templates)  # type: ignore[arg-type]
    letters = "SAGMWQRE"
    naive_right = pipeline_right = 0
    for letter, (ink, paper) in itertools.product(letters, SCHEMES):
        image = draw(letter, ink, paper, size=int(40 + 7 * letters.index(letter)))
        naive = templates.probabilities(naive_28(image)[None, ..., None])  # type: ignore[attr-defined]
        naive_right += LETTERS[int(naive.argmax())] == letter
        pipeline_right += reader.read_one(image).text == letter
    assert pipeline_right == 2 * len(letters)
    assert naive_right <= 3


def test_a_reading_has_per_letter_top_k_and_aligned_chars(templates: object, draw: Draw) -> None:
    reading = LetterReader(templates).read_one(draw("HI\nFOX", tracking=10), top_k=3)  # type: ignore[arg-type]
    assert reading.text == "HI\nFOX"
    assert [c for c, _ in reading.chars] == list("HI\nFOX") and len(reading.letters) == 5
    assert all(len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1] for top in reading.letters)
    assert reading.topk[0] == ("HI\nFOX", pytest.approx(reading.confidence))
    assert [p for _, p in reading.topk] == sorted((p for _, p in reading.topk), reverse=True)
    assert reading.to_dict()["letters"][0][0]["char"] == "H"


def test_a_wide_letter_is_not_cut(templates: object, draw: Draw) -> None:
    reader = LetterReader(templates)  # type: ignore[arg-type]
    assert reader.read_one(draw("WAW", tracking=14)).text == "WAW"


def test_k_best_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    letters = []
    for _ in range(3):
        p = rng.dirichlet(np.ones(4))
        order = np.argsort(-p)
        letters.append([("abcd"[j], float(p[j])) for j in order])
    brute = sorted(
        (("".join(c for c, _ in combo), float(np.prod([p for _, p in combo])))
         for combo in itertools.product(*letters)),
        key=lambda t: -t[1],
    )[:5]  # fmt: skip
    best = k_best(letters, ["", "", ""], 5)
    assert [t for t, _ in best] == [t for t, _ in brute]
    assert [p for _, p in best] == pytest.approx([p for _, p in brute])


def test_stages_of_a_word_go_through_every_step(templates: object, draw: Draw) -> None:
    reading, stages = read_with_stages(LetterReader(templates), draw("ij"))  # type: ignore[arg-type]
    names = [name for name, _ in stages.images]
    assert names[:5] == ["input", "working", "kmeans", "binary", "segments"]
    assert names[5:] == [f"letter{i}-{s}" for i in (1, 2) for s in ("square", "box22", "blur")]
    assert reading.text == "IJ"


def test_blank_images_are_refused_by_the_reader(templates: object) -> None:
    with pytest.raises(BlankImageError):
        LetterReader(templates).read_one(np.full((40, 40, 3), 200, np.uint8))  # type: ignore[arg-type]


def test_a_numpy_mlp_reads_through_the_same_pipeline(tmp_path: Path, draw: Draw) -> None:
    rng = np.random.default_rng(0)
    clf = MLPClassifier(hidden=(8,), epochs=1, early_stopping=False, random_state=0)
    clf.fit(rng.random((52, 784), dtype=np.float32), np.arange(52) % 26)
    clf.save(tmp_path / "model.npz")
    reader = load(tmp_path)
    assert isinstance(reader, LetterReader) and isinstance(reader.model, MLPLetters)
    (reading,) = reader.read([draw("AB")], top_k=2)
    assert len(reading.text) == 2 and len(reading.letters[0]) == 2


class _Fixed:
    """A reader that always answers the same, or refuses."""

    def __init__(self, text: str, confidence: float, error: Exception | None = None) -> None:
        self.text, self.confidence, self.error, self.calls = text, confidence, error, 0

    def read(self, images: Sequence[object], top_k: int = 5) -> list[Reading]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return [Reading(self.text, self.confidence, [], [(self.text, self.confidence)])]

    def read_one(self, image: object, top_k: int = 5, stages: object = None) -> Reading:
        reading = self.read([image])[0]
        letters = [[(c, self.confidence ** (1 / len(self.text)))] for c in self.text if c != "\n"]
        return Reading(reading.text, reading.confidence, [], reading.topk, letters)


def test_auto_keeps_lone_letters_and_lines_and_else_takes_the_more_confident() -> None:
    words = _Fixed("HELLO", 0.9)
    for text in ("A", "AB\nCD"):
        auto = AutoReader(_Fixed(text, 0.1), words)  # type: ignore[arg-type]
        assert auto.read_one(b"").text == text
    assert words.calls == 0
    assert AutoReader(_Fixed("HELL0", 0.1), words).read_one(b"").text == "HELLO"  # type: ignore[arg-type]
    assert AutoReader(_Fixed("HELLO", 0.95), _Fixed("HELL", 0.5)).read_one(b"").text == "HELLO"  # type: ignore[arg-type]
    refused = _Fixed("", 0.0, ImageError("found 300 pieces of ink"))
    assert AutoReader(refused, words).read_one(b"").text == "HELLO"  # type: ignore[arg-type]
    blank = _Fixed("", 0.0, BlankImageError("the image is blank"))
    with pytest.raises(BlankImageError):
        AutoReader(blank, words).read_one(b"")  # type: ignore[arg-type]
    assert AutoReader(_Fixed("AB", 0.2), None).read_one(b"").text == "AB"  # type: ignore[arg-type]
