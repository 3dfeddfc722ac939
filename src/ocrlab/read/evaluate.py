"""Measure a trained model on dataset folders, through the same Predictor users get.

Evaluating through `Predictor` (not the training batches) means the figures include the real
preprocessing: decoding, resizing and normalisation exactly as `ocrlab predict` does them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ocrlab.data.load import load_many
from ocrlab.errors import DatasetError
from ocrlab.metrics import accuracy, top_k_accuracy
from ocrlab.read.predictor import Predictor


def evaluate_classifier(
    run: Path, dirs: Sequence[Path], device: str = "auto", workers: int = 1
) -> dict[str, Any]:
    """Accuracy and top-5 accuracy of a trained classifier on dataset folders."""
    predictor = Predictor.load(run, device)
    data = load_many(list(dirs), predictor.size, workers=workers)
    index = {w: i for i, w in enumerate(predictor.classes)}
    unknown = sorted({w for w in data.words if w not in index})
    if unknown:
        raise DatasetError(
            f"{len(unknown)} word(s) of the data are not among the model's classes, e.g. "
            f"{unknown[:3]}: the model was trained on another class list"
        )
    labels = np.array([index[w] for w in data.words], dtype=np.int64)
    probs = predictor.probabilities(data.images)
    return {
        "images": len(labels),
        "accuracy": accuracy(labels, probs.argmax(1)),
        "top5_accuracy": top_k_accuracy(probs, labels, min(5, probs.shape[1])),
        "data": [str(d) for d in dirs],
        "model": str(run),
    }
