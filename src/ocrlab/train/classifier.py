"""Train a word classifier (the seed's ResNet18 task) from dataset folders, end to end.

Data → split → model → `fit`. Classes are the datasets' vocabularies in order, and a label is the
index of the image's word in them, looked up from the manifest row, never from loading order. The
images are loaded once as uint8 (resized to the model's input size if it differs), so the whole
101,000-image seed set costs exactly its packed size in memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ocrlab import __version__
from ocrlab.config import to_dict
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.load import ImageSet, load_many
from ocrlab.data.split import random_split, stratified_split
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.models import build
from ocrlab.rng import SPLITS, make_rng
from ocrlab.train import checkpoint, dist
from ocrlab.train.batches import train_test_batches
from ocrlab.train.device import resolve_device
from ocrlab.train.loop import Callback, ClassifierTask, Run, TrainConfig, fit

RUN_CONFIG = "config.json"


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


def prepare_run(out: Path, description: dict[str, Any], resume: bool, overwrite: bool) -> None:
    """Create or check a run folder: refuse to mix runs, resume only the same configuration."""
    if out.exists() and any(out.iterdir()):
        if resume:
            saved = _read_json(out / RUN_CONFIG)
            if saved != description:
                raise DatasetError(
                    f"cannot resume {out}: it was started with another configuration"
                )
            if not (out / checkpoint.STATE).is_file():
                raise DatasetError(f"cannot resume {out}: no finished epoch was saved")
            return
        if not overwrite:
            raise DatasetError(f"{out} is not empty; pass --resume to continue it or --overwrite")
        if not (out / RUN_CONFIG).is_file():
            raise DatasetError(f"refusing to overwrite {out}: it is not an ocrlab run")
        for child in out.iterdir():
            if child.is_file():
                child.unlink()
    elif resume:
        raise DatasetError(f"cannot resume {out}: it does not exist")
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / RUN_CONFIG, (json.dumps(description, indent=1) + "\n").encode())
    except OSError as exc:
        raise DatasetError(f"cannot write to {out}: {exc.strerror or exc}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


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
    data = load_many(list(dirs), size, workers=cfg.workers)
    if cfg.limit is not None and cfg.limit < len(data):
        pick = make_rng(cfg.train.seed, SPLITS, 1).choice(len(data), cfg.limit, replace=False)
        data = data.subset(np.sort(pick))
    classes, labels = class_labels(data) if cfg.limit is None else _loose_labels(data)
    if cfg.permute_labels:
        labels = make_rng(cfg.train.seed, SPLITS, 2).permutation(labels)
    return data, classes, labels


def _loose_labels(data: ImageSet) -> tuple[list[str], np.ndarray]:
    """Labels of a random subset, where a rare class may be absent by chance."""
    index = {w: i for i, w in enumerate(data.vocab)}
    return list(data.vocab), np.array([index[w] for w in data.words], dtype=np.int64)


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
    description = {"data": [str(d) for d in dirs], "config": to_dict(cfg)}
    data, classes, labels = load_data(dirs, cfg)
    device = dist.setup(resolve_device(cfg.train.device))  # joins a torchrun group if any
    dist.on_main(lambda: prepare_run(out, description, resume, overwrite))
    train_idx, test_idx = split(labels, cfg)
    torch.manual_seed(cfg.train.seed)
    channels = data.images.shape[-1]
    model_config = {
        "num_classes": len(classes),
        "in_channels": channels,
        "width": cfg.width,
        "dropout": cfg.dropout,
    }
    model = build(cfg.model, **model_config)
    train, test = train_test_batches(
        data.images,
        labels,
        (train_idx, test_idx),
        device,
        cfg.train.batch_size,
        cfg.train.seed,
        cfg.train.augment,
    )
    meta = {
        "kind": "classifier",
        "model": cfg.model,
        "model_config": model_config,
        "classes": classes,
        "input_size": list(data.images.shape[1:3]),
        "channels": channels,
        "ocrlab": __version__,
        "data": description["data"],
        "config": to_dict(cfg),
        "split": {"train": len(train_idx), "test": len(test_idx)},
        "title": f"{cfg.model} on {len(train_idx):,} images, {len(classes)} classes",
    }
    fit(
        Run(out, model, meta),
        train,
        test,
        ClassifierTask(cfg.train.label_smoothing),
        cfg.train,
        resume=resume,
        callback=callback,
    )
    return dist.on_main(lambda: checkpoint.load_meta(out)["metrics"])
