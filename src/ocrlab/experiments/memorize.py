"""The accidental experiment of "Breaking CAPTCHA", on purpose: can ResNet18 memorise labels that
mean nothing?

Zhang et al. (2017, "Understanding deep learning requires rethinking generalization") showed that a
network reaches 100 % training accuracy on randomly permuted labels while its test accuracy stays at
chance. "Breaking CAPTCHA" hit the same result by scrambling images against labels. Here the same
model is trained twice with the same budget, once on true labels and once on permuted ones, and the
result is written as one plot and a `report.md`.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.plots import plot_runs
from ocrlab.runtime.checkpoint import load_checkpoint
from ocrlab.train.classifier import ClassifierConfig, train_classifier
from ocrlab.train.loop import Callback, TrainConfig

PRESET = ClassifierConfig(
    input_height=24,
    input_width=168,
    dropout=0.0,
    limit=1000,
    train=TrainConfig(epochs=40, batch_size=64, lr=2e-3, weight_decay=0.0, augment=False),
)
"""Small enough for a CPU: 900 training images at half resolution, no regularisation."""


def _history(run: Path) -> list[dict[str, float]]:
    with (run / "history.csv").open(encoding="utf-8") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def memorize(
    dirs: Sequence[Path],
    out: Path,
    cfg: ClassifierConfig = PRESET,
    *,
    overwrite: bool = False,
    callback: Callback | None = None,
) -> dict[str, Any]:
    """Train on true and on permuted labels; write memorize.png and report.md; return figures."""
    results: dict[str, Any] = {}
    histories: dict[str, Sequence[dict[str, float]]] = {}
    for name, permute in (("true labels", False), ("permuted labels", True)):
        run = out / name.split()[0]
        run_cfg = dataclasses.replace(cfg, permute_labels=permute)
        results[name] = train_classifier(dirs, run, run_cfg, overwrite=overwrite, callback=callback)
        histories[name] = _history(run)
    classes = len(load_checkpoint(out / "true").classes)
    chance = 1.0 / classes
    plot_runs(histories, out / "memorize.png", "ResNet18: true vs permuted labels")
    permuted, true = results["permuted labels"], results["true labels"]
    verdict = (
        "memorised"
        if permuted["train_acc"] >= 0.95 and permuted["test_acc"] <= 3 * chance
        else "did not memorise within this budget"
    )
    lines = [
        "# Memorisation: true vs permuted labels",
        "",
        f"Same model, data and budget ({cfg.train.epochs} epochs, {cfg.limit or 'all'} images, "
        f"{classes} classes, chance = {100 * chance:.1f} %).",
        "",
        "| labels | train accuracy | test accuracy |",
        "|---|---|---|",
        *(
            f"| {n} | {100 * r['train_acc']:.2f} % | {100 * r['test_acc']:.2f} % |"
            for n, r in results.items()
        ),
        "",
        f"With permuted labels the network {verdict}: training accuracy "
        f"{100 * permuted['train_acc']:.1f} % on labels that carry no information, while test "
        f"accuracy stays at {100 * permuted['test_acc']:.1f} % "
        f"({permuted['test_acc'] / chance:.1f}× chance). With true labels it generalises: "
        f"{100 * true['test_acc']:.1f} % test.",
        "",
        "![train and test accuracy](memorize.png)",
        "",
    ]
    atomic_write_bytes(out / "report.md", "\n".join(lines).encode())
    return {"chance": chance, **results, "verdict": verdict}
