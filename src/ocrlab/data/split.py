"""Seeded train/test splits: random, stratified by class, or grouped (no group on both sides).

Every split takes a `numpy.random.Generator`, so the same seed gives the same split on any machine.
Grouped splits serve open-vocabulary tests: split by word, no test word is ever seen in training.
NumPy and `ocrlab.rng` only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ocrlab.rng import SPLITS, make_rng


def _check(n: int, test_fraction: float) -> None:
    if n < 2:
        raise ValueError(f"need at least 2 samples to split, got {n}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")


def random_split(
    n: int, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) index arrays; the test side has round(n * test_fraction) ≥ 1 items."""
    _check(n, test_fraction)
    order = rng.permutation(n)
    k = min(n - 1, max(1, round(n * test_fraction)))
    return np.sort(order[k:]), np.sort(order[:k])


def stratified_split(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Like `random_split`, but each class sends the same fraction to the test side."""
    _check(len(labels), test_fraction)
    test = []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        test.append(members[: round(len(members) * test_fraction)])
    test_idx = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(labels)), test_idx), test_idx


def group_split(
    groups: Sequence[str], test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split so each group (e.g. a word) falls wholly on one side; the fraction is of groups."""
    names = sorted(set(groups))
    _check(len(names), test_fraction)
    _, test_names = random_split(len(names), test_fraction, rng)
    held_out = {names[i] for i in test_names}
    mask = np.array([g in held_out for g in groups])
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def limit_rows(n: int, limit: int | None, seed: int) -> np.ndarray:
    """Sorted rows of the seeded random subset of `limit` of `n` images a run trains on (every
    row when `limit` is None or not smaller): the trainers and `eval --held-out` share it."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(make_rng(seed, SPLITS, 1).choice(n, limit, replace=False))


def text_split(
    texts: Sequence[str], kind: str, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A sequence run's split: by word (case folded, so no test word is seen in training) or
    at random."""
    rng = make_rng(seed, SPLITS)
    if kind == "word":
        return group_split([t.lower() for t in texts], test_fraction, rng)
    return random_split(len(texts), test_fraction, rng)


def labels_digest(texts: Sequence[str]) -> str:
    """A fingerprint of labels in order: a split recorded by index is only the same split of the
    same labels, so whoever reuses one (a resumed audit, `ocrlab eval --held-out`) checks it."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]


def held_out_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded (train, held-out) split of a fine-tuning run's n labels: fine-tuning draws it,
    and `ocrlab eval --held-out` draws it again from the seed the run recorded."""
    return random_split(n, fraction, make_rng(seed, SPLITS))
