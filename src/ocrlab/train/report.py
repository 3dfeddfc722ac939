"""What every EMNIST letters run writes besides its model: data splits, scores, figures, JSON.

Owns the reference protocol's data (EMNIST-L subset: a seeded, stratified 80/20 train/validation
split of the train file, tested on the test file), the scores in `metrics.json` (top-1/2/5, per
class, a–l), the 26×26 `confusion.png` and the `misclassified.png` contact sheet, so the NumPy
MLP, the grid and the torch CNN report alike. NumPy, matplotlib (through `ocrlab.plots`) and
Pillow (through `ocrlab.synth.preview`); never torch.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.emnist import LETTERS, LetterSet, Protocol, load_emnist_letters, split_train_val
from ocrlab.errors import DatasetError
from ocrlab.metrics import confusion_matrix, per_class_accuracy, top_k_accuracy
from ocrlab.plots import plot_confusion
from ocrlab.rng import PREVIEW, SPLITS, make_rng
from ocrlab.synth.preview import contact_sheet

A_TO_L = 12
"""Classes a–l are complete (800 images each) in the test subset: their accuracy compares best."""
SHEET_TILES = 60
SHEET_COLUMNS = 12


@dataclass(frozen=True)
class LetterSplits:
    """Train, validation and test letters; every label is an index into `LETTERS`."""

    train: LetterSet
    val: LetterSet
    test: LetterSet

    def describe(self) -> dict[str, Any]:
        """Sizes and sources, for metrics.json."""
        parts = {"train": self.train, "val": self.val, "test": self.test}
        return {name: {"images": len(s.labels), "source": s.source} for name, s in parts.items()}


def load_letter_splits(
    root: Path | None, protocol: Protocol, seed: int, val_fraction: float = 0.2
) -> LetterSplits:
    """Load EMNIST Letters from `root` and split train/validation by class with `seed`."""
    train = load_emnist_letters("train", root, protocol)
    test = load_emnist_letters("test", root, protocol)
    missing = sorted(set(LETTERS) - {LETTERS[c] for c in np.unique(train.labels)})
    if missing:
        raise DatasetError(f"{train.source} has no images of {', '.join(missing)}.")
    try:
        parts = split_train_val(
            train.images, train.labels, val_fraction=val_fraction, rng=make_rng(seed, SPLITS)
        )
    except ValueError as exc:
        raise DatasetError(f"{train.source}: {exc}") from None
    images, labels, val_images, val_labels = parts
    return LetterSplits(
        LetterSet(images, labels, f"{train.source}#train"),
        LetterSet(val_images, val_labels, f"{train.source}#val"),
        test,
    )


def with_val_in_train(data: LetterSplits) -> LetterSplits:
    """`data` whose training part also holds the validation images (a final refit); the
    validation part stays as it was, so it no longer measures generalisation."""
    train = LetterSet(
        np.concatenate([data.train.images, data.val.images]),
        np.concatenate([data.train.labels, data.val.labels]),
        f"{data.train.source}+val",
    )
    return LetterSplits(train, data.val, data.test)


def letter_scores(
    proba: npt.NDArray[np.floating[Any]], labels: npt.NDArray[np.int64]
) -> dict[str, Any]:
    """Top-1/2/5 accuracy, accuracy on a–l and per class (None where a class has no images).

    `proba` is (N, 26) class scores, `labels` (N,) in 0..25.
    """
    pred = np.argmax(proba, axis=1)
    per_class = per_class_accuracy(labels, pred, len(LETTERS))
    early = labels < A_TO_L
    return {
        "top1": top_k_accuracy(proba, labels, 1),
        "top2": top_k_accuracy(proba, labels, 2),
        "top5": top_k_accuracy(proba, labels, 5),
        "a_to_l": float(np.mean(pred[early] == labels[early])) if early.any() else None,
        "per_class": {
            letter: None if np.isnan(acc) else round(float(acc), 4)
            for letter, acc in zip(LETTERS, per_class, strict=True)
        },
    }


def write_figures(
    folder: Path, test: LetterSet, proba: npt.NDArray[np.floating[Any]], title: str, seed: int
) -> None:
    """`confusion.png` (26×26, rows true) and `misclassified.png` (true → predicted) for `test`."""
    pred = np.argmax(proba, axis=1)
    matrix = confusion_matrix(test.labels, pred, len(LETTERS))
    plot_confusion(matrix, list(LETTERS), folder / "confusion.png", title)
    wrong = np.flatnonzero(pred != test.labels)
    if wrong.size == 0:
        return
    rng = make_rng(seed, PREVIEW)
    shown = np.sort(rng.choice(wrong, size=min(SHEET_TILES, wrong.size), replace=False))
    # Doubled pixels leave room under each 28-pixel letter for its caption.
    tiles = [np.repeat(np.repeat(test.images[i], 2, 0), 2, 1) for i in shown]
    captions = [f"{LETTERS[test.labels[i]]} → {LETTERS[pred[i]]}" for i in shown]
    sheet = contact_sheet(tiles, captions, columns=min(SHEET_COLUMNS, len(tiles)))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    atomic_write_bytes(folder / "misclassified.png", buffer.getvalue())


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented JSON, atomically."""
    atomic_write_bytes(path, (json.dumps(data, indent=1) + "\n").encode())


def write_csv(path: Path, rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    """Write `rows` (dicts with at least `fields`) as a CSV with a header, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(fields), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode())
