"""Scores for classifiers and readers: accuracy, top-k, confusion matrix, edit distance and CER.

Owns every number that the training history, the experiment tables and the benchmarks report, so
they are all computed one way. Class labels are integer arrays (0..n_classes-1); readings are lists
of strings. Shape or length mismatches raise ValueError rather than broadcasting silently. Imports
NumPy and the standard library only; never torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def _labels(values: npt.ArrayLike, name: str) -> npt.NDArray[np.int64]:
    """Return `values` as a 1-D int64 array, or raise ValueError."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _pair(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return both label arrays, checked to be of one length."""
    true, pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {len(true)} labels but y_pred has {len(pred)}")
    return true, pred


def _in_range(labels: npt.NDArray[np.int64], n_classes: int, name: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{name} must lie in 0..{n_classes - 1}")


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Fraction of positions where y_pred equals y_true; both (N,) integer labels, N ≥ 1."""
    true, pred = _pair(y_true, y_pred)
    if true.size == 0:
        raise ValueError("accuracy of zero samples is undefined")
    return float(np.mean(true == pred))


def top_k_accuracy(scores: npt.ArrayLike, y_true: npt.ArrayLike, k: int) -> float:
    """Fraction of rows whose true class is among the k highest of scores (N, C), k in 1..C.

    Ties are broken towards the lower class index (as a stable sort would), so the result never
    depends on the sort algorithm: a true class tied with a lower index ranks after it.
    """
    s = np.asarray(scores, dtype=np.float64)
    true = _labels(y_true, "y_true")
    if s.ndim != 2 or s.shape[0] != len(true):
        raise ValueError(f"scores must be (N, C) with N = {len(true)} labels, got {s.shape}")
    if true.size == 0:
        raise ValueError("accuracy of zero samples is undefined")
    if not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must lie in 1..{s.shape[1]}, got {k}")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN, which has no rank")
    _in_range(true, s.shape[1], "y_true")
    own = s[np.arange(len(true)), true][:, None]
    lower = np.arange(s.shape[1])[None, :] < true[:, None]
    rank = np.sum(s > own, axis=1) + np.sum((s == own) & lower, axis=1)
    return float(np.mean(rank < k))


def confusion_matrix(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, n_classes: int
) -> npt.NDArray[np.int64]:
    """Counts (n_classes, n_classes) int64: row = true class, column = predicted class."""
    true, pred = _pair(y_true, y_pred)
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    _in_range(true, n_classes, "y_true")
    _in_range(pred, n_classes, "y_pred")
    counts = np.bincount(true * n_classes + pred, minlength=n_classes * n_classes)
    return counts.astype(np.int64).reshape(n_classes, n_classes)


def per_class_accuracy(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, n_classes: int
) -> npt.NDArray[np.float64]:
    """Accuracy within each true class, (n_classes,) float64; NaN for a class with no samples.

    NaN rather than 0 because an absent class was not misread (the EMNIST test subset has no t–z).
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    out = np.full(n_classes, np.nan)
    np.divide(np.diag(cm), support, out=out, where=support > 0)
    return out


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: fewest single-character insertions, deletions and substitutions."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _texts(references: Sequence[str], hypotheses: Sequence[str]) -> None:
    if isinstance(references, str) or isinstance(hypotheses, str):
        raise ValueError("pass lists of strings, not a single string")
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not references:
        raise ValueError("no strings to compare")


def character_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Sum of edit distances over the sum of reference lengths (can exceed 1 with insertions).

    Empty references count their hypothesis characters as insertions. If every reference is empty
    the rate is 0.0 when every hypothesis is empty too and 1.0 otherwise, a finite "all wrong" that
    keeps averages and JSON histories usable where the ratio itself would divide by zero.
    """
    _texts(references, hypotheses)
    errors = sum(edit_distance(r, h) for r, h in zip(references, hypotheses, strict=True))
    total = sum(len(r) for r in references)
    if total == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / total


def exact_match(
    references: Sequence[str], hypotheses: Sequence[str], *, case_sensitive: bool = True
) -> float:
    """Fraction of hypotheses equal to their reference; case-insensitive compares casefolded."""
    _texts(references, hypotheses)
    if case_sensitive:
        hits = sum(r == h for r, h in zip(references, hypotheses, strict=True))
    else:
        hits = sum(
            r.casefold() == h.casefold() for r, h in zip(references, hypotheses, strict=True)
        )
    return hits / len(references)
