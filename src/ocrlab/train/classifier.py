"""Train a word classifier (the ResNet18 task of "Breaking CAPTCHA") from dataset folders, end to
end.

Data → split → model → `fit`. Classes are the datasets' vocabularies in order, and a label is the
index of the image's word in them, looked up from the manifest row, never from loading order. The
images are loaded once as uint8 (resized to the model's input size if it differs), so the whole
101,000-image seed set costs exactly its packed size in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ocrlab.config import to_dict
from ocrlab.data.load import ImageSet, load_many
from ocrlab.data.split import limit_rows, random_split, stratified_split
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.models import build
from ocrlab.rng import SPLITS, make_rng
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.preprocess import PREPROCESS
from ocrlab.train.batches import DeviceBatches, train_test_batches
from ocrlab.train.loop import Callback, ClassifierTask, Run, Task, TrainConfig
from ocrlab.train.skeleton import metrics, run_job


@dataclass(frozen=True)
class ClassifierConfig:
    """A word classifier: model, input size, data split and training settings."""

    model: str = "resnet18"
    width: int = 64
    dropout: float = 0.2
    input_height: int | None = None
    input_width: int | None = None
    """Resize images to this size (None: the data's own size)."""
    test_fraction: float = 0.1
    stratify: bool = False
    limit: int | None = None
    """Train and test on a seeded random subset of this many images."""
    permute_labels: bool = False
    """Shuffle labels against images before the split (the memorisation experiment)."""
    workers: int = 1
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if (self.input_height is None) != (self.input_width is None):
            raise ConfigError("give both input_height and input_width, or neither")
        if self.limit is not None and self.limit < 2:
            raise ConfigError("limit must be at least 2")


PRESETS: dict[str, ClassifierConfig] = {
    "quick": ClassifierConfig(  # half width at 24x168: 11 s an epoch of 9,000 images on 2 cores
        width=32,
        input_height=24,
        input_width=168,
        train=TrainConfig(epochs=60, batch_size=64, lr=2e-3, weight_decay=0.05),
    ),
    "seed": ClassifierConfig(train=TrainConfig(epochs=30, batch_size=256, lr=2e-3)),
}


def class_labels(data: ImageSet) -> tuple[list[str], np.ndarray]:
    """(classes, labels): classes in vocabulary order; every class must have images."""
    classes = list(data.vocab)
    index = {w: i for i, w in enumerate(classes)}
    unknown = sorted({w for w in data.words if w not in index})
    if unknown:
        raise DatasetError(f"words missing from the vocabulary: {unknown[:5]}")
    labels = np.array([index[w] for w in data.words], dtype=np.int64)
    counts = np.bincount(labels, minlength=len(classes))
    if (counts == 0).any():
        empty = [classes[i] for i in np.flatnonzero(counts == 0)[:5]]
        raise DatasetError(f"{int((counts == 0).sum())} class(es) have no images, e.g. {empty}")
    return classes, labels


def split(labels: np.ndarray, cfg: ClassifierConfig) -> tuple[np.ndarray, np.ndarray]:
    rng = make_rng(cfg.train.seed, SPLITS)
    if cfg.stratify:
        return stratified_split(labels, cfg.test_fraction, rng)
    return random_split(len(labels), cfg.test_fraction, rng)


def load_data(
    dirs: Sequence[Path], cfg: ClassifierConfig
) -> tuple[ImageSet, list[str], np.ndarray]:
    """Images (subset and resized as configured), classes and labels (permuted if configured)."""
    size = None if cfg.input_height is None else (cfg.input_height, cfg.input_width or 0)
    data = load_many(list(dirs), size, workers=cfg.workers, prepare=PREPROCESS["classifier"])
    data = data.subset(limit_rows(len(data), cfg.limit, cfg.train.seed))
    classes, labels = class_labels(data) if cfg.limit is None else _loose_labels(data)
    if cfg.permute_labels:
        labels = make_rng(cfg.train.seed, SPLITS, 2).permutation(labels)
    return data, classes, labels


def _loose_labels(data: ImageSet) -> tuple[list[str], np.ndarray]:
    """Labels of a random subset, where a rare class may be absent by chance."""
    index = {w: i for i, w in enumerate(data.vocab)}
    return list(data.vocab), np.array([index[w] for w in data.words], dtype=np.int64)


Loaded = tuple[ImageSet, list[str], np.ndarray]
Parts = tuple[np.ndarray, np.ndarray]


class ClassifierJob:
    """The word classifier's steps of the training skeleton (`ocrlab.train.skeleton`)."""

    def __init__(self, dirs: Sequence[Path], cfg: ClassifierConfig) -> None:
        self.dirs, self.cfg, self.train = list(dirs), cfg, cfg.train
        self.description: dict[str, Any] = {"data": [str(d) for d in dirs], "config": to_dict(cfg)}
        self.task: Task = ClassifierTask(cfg.train.label_smoothing)

    def load(self) -> Loaded:
        return load_data(self.dirs, self.cfg)

    def split(self, data: Loaded) -> Parts:
        return split(data[2], self.cfg)

    def build(self, data: Loaded, parts: Parts) -> tuple[nn.Module, Checkpoint]:
        images, classes, cfg = data[0].images, data[1], self.cfg
        model_config = {
            "num_classes": len(classes),
            "in_channels": images.shape[-1],
            "width": cfg.width,
            "dropout": cfg.dropout,
        }
        ckpt = Checkpoint(
            kind="classifier",
            model=cfg.model,
            model_config=model_config,
            classes=classes,
            input_size=(images.shape[1], images.shape[2]),
            channels=images.shape[-1],
            data=self.description["data"],
            config=to_dict(cfg),
            split={"train": len(parts[0]), "test": len(parts[1])},
            title=f"{cfg.model} on {len(parts[0]):,} images, {len(classes)} classes",
        )
        return build(cfg.model, **model_config), ckpt

    def batches(
        self, data: Loaded, parts: Parts, device: torch.device
    ) -> tuple[DeviceBatches, DeviceBatches]:
        t = self.train
        return train_test_batches(
            data[0].images, data[2], parts, device, t.batch_size, t.seed, t.augment
        )

    def finish(self, run: Run, data: Loaded, parts: Parts, history: list[dict[str, float]]) -> Any:
        return metrics(run.folder)


def train_classifier(
    dirs: Sequence[Path],
    out: Path,
    cfg: ClassifierConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callback: Callback | None = None,
) -> dict[str, float]:
    """Train, write the run folder, return the final metrics (see `ocrlab.train.loop.fit`)."""
    job = ClassifierJob(dirs, cfg)
    result: dict[str, float] = run_job(
        job, out, resume=resume, overwrite=overwrite, callback=callback
    )
    return result
