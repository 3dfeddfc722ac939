"""Tiny EMNIST Letters folders in the subset `.npz` form, written at test time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocrlab.rng import make_rng

PER_CLASS = 8


def write_subset(path: Path, per_class: int, seed: int) -> None:
    """Each letter `per_class` times: a class-specific bar on noise, stored transposed."""
    labels = np.repeat(np.arange(1, 27, dtype=np.uint8), per_class)
    images = make_rng(seed, 0).integers(0, 60, size=(labels.size, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 + label // 2, 4:24] = 255  # a bar whose row depends on the class
    stored = np.ascontiguousarray(images.transpose(0, 2, 1))
    np.savez(path, x=stored, y=labels, idx=np.arange(labels.size, dtype=np.int32))


@pytest.fixture
def emnist_dir(tmp_path: Path) -> Path:
    """A folder holding emnist-letters-{train,test}-subset.npz with all 26 classes."""
    folder = tmp_path / "emnist"
    folder.mkdir()
    write_subset(folder / "emnist-letters-train-subset.npz", PER_CLASS, 1)
    write_subset(folder / "emnist-letters-test-subset.npz", 3, 2)
    return folder
