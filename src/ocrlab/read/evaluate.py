"""Measure a trained model on dataset folders, through the same Predictor users get.

Evaluating through `Predictor` (not the training batches) means the figures include the real
preprocessing: decoding, resizing and normalisation exactly as `ocrlab predict` does them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ocrlab.data.load import load_many
from ocrlab.errors import DatasetError
from ocrlab.metrics import accuracy, character_error_rate, exact_match, top_k_accuracy
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


def text_metrics(truth: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Exact match (case-sensitive and not), CER, and exact match by text length."""
    by_length: dict[str, list[int]] = {}
    for t, p in zip(truth, pred, strict=True):
        by_length.setdefault(str(len(t)), []).append(int(t == p))
    return {
        "images": len(truth),
        "exact": exact_match(truth, pred, case_sensitive=True),
        "exact_case_insensitive": exact_match(truth, pred, case_sensitive=False),
        "cer": character_error_rate(truth, pred),
        "exact_by_length": {k: sum(v) / len(v) for k, v in sorted(by_length.items(), key=_num)},
    }


def _num(item: tuple[str, list[int]]) -> int:
    return int(item[0])


def evaluate_seq(
    run: Path, dirs: Sequence[Path], device: str = "auto", workers: int = 1, held_out: bool = False
) -> dict[str, Any]:
    """Text metrics of a sequence model; `held_out` keeps only the run's own test split."""
    from ocrlab.config import from_dict
    from ocrlab.train.checkpoint import load_meta
    from ocrlab.train.sequence import SeqConfig, load_seq_data, split_seq

    predictor = Predictor.load(run, device)
    saved = from_dict(SeqConfig, load_meta(run)["config"])
    cfg = dataclasses.replace(
        saved, workers=workers, init=str(run), limit=saved.limit if held_out else None
    )
    data = load_seq_data(dirs, cfg)
    if held_out:
        data = data.subset(split_seq(data, cfg)[1])
    pred = [r.text for r in predictor.read(list(data.images), top_k=1)]
    return {
        **text_metrics(data.texts, pred),
        "data": [str(d) for d in dirs],
        "model": str(run),
        "held_out": held_out,
    }


def evaluate(
    run: Path, dirs: Sequence[Path], device: str = "auto", workers: int = 1, held_out: bool = False
) -> dict[str, Any]:
    """Metrics of any trained model on dataset folders, by the model's kind."""
    from ocrlab.train.checkpoint import load_meta

    if load_meta(run)["kind"] == "seq":
        return evaluate_seq(run, dirs, device, workers, held_out)
    return evaluate_classifier(run, dirs, device, workers)
