"""Pictures of results: training curves and confusion matrices (matplotlib, Agg backend).

matplotlib is imported inside each function, so importing ocrlab stays cheap. NumPy + matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: Sequence[dict[str, float]], path: Path, title: str = "") -> None:
    """Loss and accuracy per epoch, train and test, side by side (like the plots of
    "Breaking CAPTCHA")."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for split, style in (("train", "-"), ("test", "--")):
        ax_loss.plot(epochs, [r[f"{split}_loss"] for r in history], style, label=split)
        ax_acc.plot(epochs, [100 * r[f"{split}_acc"] for r in history], style, label=split)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy", ylim=(0, 100))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_runs(runs: dict[str, Sequence[dict[str, float]]], path: Path, title: str) -> None:
    """Train (solid) and test (dashed) accuracy of several runs on one axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, (name, history) in enumerate(runs.items()):
        epochs = [r["epoch"] for r in history]
        colour = f"C{k}"
        ax.plot(
            epochs, [100 * r["train_acc"] for r in history], "-", c=colour, label=f"{name}: train"
        )
        ax.plot(
            epochs, [100 * r["test_acc"] for r in history], "--", c=colour, label=f"{name}: test"
        )
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title=title, ylim=(0, 101))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, labels: Sequence[str], path: Path, title: str = "") -> None:
    """A confusion matrix (rows true, columns predicted) with counts in the cells."""
    plt = _pyplot()
    n = len(labels)
    fig, ax = plt.subplots(figsize=(0.36 * n + 2, 0.36 * n + 1.5))
    im = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set(xlabel="predicted label", ylabel="true label", title=title)
    if n <= 40:
        top = matrix.max() or 1
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    colour = "white" if matrix[i, j] > top / 2 else "black"
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=6, c=colour)
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
