"""The letter reader's strong model: the `letters_cnn` torch CNN trained on EMNIST Letters.

Owns `LettersCNNConfig` and `train_letters_cnn`, which loads the same seeded EMNIST split as the
NumPy MLP, trains with the shared engine (`ocrlab.train.loop.fit`: AdamW, one-cycle schedule) on
the training part, warping each batch either with the engine's small on-device affine maps or with
the MLP's stronger affine + elastic warps (`ocrlab.scratch.augment`), and writes a run folder that
`ocrlab.train.checkpoint` loads without flags: `model.safetensors`, `checkpoint.json` (kind
"letters", classes A–Z, input 28×28×1), `history.csv`, `curves.png`, plus `metrics.json` with
top-1/2/5, per-class and a–l test accuracy, `confusion.png` and `misclassified.png`. Imports torch;
nothing below `experiments` imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch

from ocrlab import __version__
from ocrlab.config import to_dict
from ocrlab.data.emnist import LETTERS, SIDE, LetterSet, Protocol
from ocrlab.errors import ConfigError
from ocrlab.experiments.printed import with_printed
from ocrlab.experiments.report import (
    LetterSplits,
    letter_scores,
    load_letter_splits,
    prepare_folder,
    with_val_in_train,
    write_figures,
    write_json,
)
from ocrlab.models import build
from ocrlab.rng import SAMPLES, make_rng
from ocrlab.scratch.augment import augmenter
from ocrlab.train import checkpoint, dist
from ocrlab.train.batches import DeviceBatches
from ocrlab.train.device import resolve_device
from ocrlab.train.loop import ClassifierTask, Run, TrainConfig, fit

MODEL = "letters_cnn"
Augment = Literal["none", "affine", "elastic"]


@dataclass(frozen=True)
class LettersCNNConfig:
    """One letters-CNN run; the defaults are the recipe behind the letter reader."""

    width: int = 32
    """Channels of the first stage (then 2×, 4×)."""
    dropout: float = 0.3
    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3
    """Peak learning rate of the one-cycle schedule."""
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    augment: Augment = "elastic"
    """none; affine: the engine's small on-device warps; elastic: the NumPy MLP's stronger affine
    warps plus an elastic field (Simard et al. 2003), computed on the host."""
    val_fraction: float = 0.2
    refit: bool = False
    """Train on the validation part too, once a recipe has been chosen on it: 25 % more
    handwriting for the final model; validation accuracy is then not reported."""
    printed: int = 0
    """Printed letters per class added to the training part (`experiments.printed`: training
    fonts, colours and backgrounds through the letter reader's preprocessing), so the model reads
    digital letters as well as handwriting; 0: EMNIST only."""
    protocol: Protocol = "auto"
    """EMNIST files: full (NIST's), subset (shared/data/emnist's), auto (full where present)."""
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.width < 1 or not 0 <= self.dropout < 1 or not 0 < self.val_fraction < 1:
            raise ConfigError("need width ≥ 1, 0 ≤ dropout < 1 and 0 < val_fraction < 1")
        if not 0 <= self.label_smoothing < 1 or self.weight_decay < 0 or self.seed < 0:
            raise ConfigError("need 0 ≤ label_smoothing < 1, weight_decay ≥ 0 and seed ≥ 0")
        if self.printed < 0:
            raise ConfigError("need printed ≥ 0")

    def train_config(self) -> TrainConfig:
        """The shared engine's settings for this run (checked there too)."""
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            label_smoothing=self.label_smoothing,
            augment=self.augment != "none",
            seed=self.seed,
            device=self.device,
        )


PRESETS: dict[str, LettersCNNConfig] = {
    "default": LettersCNNConfig(),
    "quick": LettersCNNConfig(epochs=5),
}


def train_letters_cnn(
    config: LettersCNNConfig,
    out: Path,
    data_root: Path | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Train `letters_cnn` on EMNIST Letters into the run folder `out`; returns metrics.json.

    `callback` receives the engine's events ({"event": "batch" | "epoch", ...}).
    """
    train_cfg = config.train_config()
    data = load_letter_splits(data_root, config.protocol, config.seed, config.val_fraction)
    device = dist.setup(resolve_device(config.device))  # joins a torchrun group if any
    dist.on_main(
        lambda: prepare_folder(out, {"model": MODEL, "config": to_dict(config)}, overwrite)
    )
    data = with_printed(
        with_val_in_train(data) if config.refit else data, config.printed, config.seed
    )
    torch.manual_seed(config.seed)
    model_config = {
        "num_classes": len(LETTERS),
        "in_channels": 1,
        "width": config.width,
        "dropout": config.dropout,
    }
    model = build(MODEL, **model_config).to(device)
    meta = {
        "kind": "letters",
        "model": MODEL,
        "model_config": model_config,
        "classes": list(LETTERS),
        "input_size": [SIDE, SIDE],
        "channels": 1,
        "ocrlab": __version__,
        "config": to_dict(config),
        "title": f"{MODEL} on {len(data.train.labels):,} letters"
        + (f" ({26 * config.printed:,} printed)" if config.printed else " (EMNIST)"),
    }

    def batches(part: LetterSet, train: bool) -> DeviceBatches:
        kind = ElasticBatches if train and config.augment == "elastic" else DeviceBatches
        images = part.images[..., None]  # (N, 28, 28, 1): the engine's (N, H, W, C)
        return kind(
            images, part.labels, config.batch_size, device, shuffle=train, seed=config.seed,
            augment=train and config.augment == "affine", channels_last=device.type == "cuda",
        )  # fmt: skip

    # The test set is only watched, never chosen on: without patience the last weights are kept.
    history = fit(
        Run(out, model, meta),
        batches(data.train, True),
        batches(data.test, False),
        ClassifierTask(config.label_smoothing),
        train_cfg,
        callback=callback,
    )
    return dist.on_main(lambda: _report(model, config, data, history, batches, out))


def _report(
    model: torch.nn.Module,
    config: LettersCNNConfig,
    data: LetterSplits,
    history: list[dict[str, float]],
    batches: Callable[[LetterSet, bool], DeviceBatches],
    out: Path,
) -> dict[str, Any]:
    """Score the trained model on every part and write metrics.json and the figures."""
    device = batches(data.test, False).device
    test_proba = predict_proba(model, batches(data.test, False))
    write_figures(out, data.test, test_proba, f"{MODEL}: test set", config.seed)
    test = letter_scores(test_proba, data.test.labels)
    seconds = sum(row["seconds"] for row in history)
    metrics = {
        "model": MODEL,
        "params": sum(p.numel() for p in model.parameters()),
        "train_acc": _accuracy(model, batches(data.train, False), data.train.labels),
        "val_acc": None
        if config.refit
        else _accuracy(model, batches(data.val, False), data.val.labels),
        "test_acc": test["top1"],
        "test": test,
        "epochs": len(history),
        "seconds": round(seconds, 1),
        "seconds_per_epoch": round(seconds / len(history), 2),
        "device": str(device),
        "data": data.describe(),
        "config": to_dict(config),
        "ocrlab": __version__,
    }
    write_json(out / "metrics.json", metrics)
    checkpoint.save_meta(out, {**checkpoint.load_meta(out), "metrics": metrics})
    return metrics


class ElasticBatches(DeviceBatches):
    """Training batches warped like the NumPy MLP's: `random_affine` with an elastic field.

    The warp runs in NumPy on the host, seeded by (seed, epoch) and, in a training group, the
    rank, so a run is reproducible and no two ranks warp alike.
    """

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        key = (self.epoch, self.rank) if self.rank else (self.epoch,)
        warp = augmenter("elastic", make_rng(self.seed, SAMPLES, *key))
        for x, y in super().__iter__():  # x (B, C, H, W) in [-1, 1]
            flat = x.float().cpu().reshape(len(x), -1).numpy()  # (B, C·H·W)
            warped = warp(np.ascontiguousarray((flat + 1.0) / 2.0, dtype=np.float32))
            out = torch.from_numpy(warped * 2.0 - 1.0).reshape(x.shape).to(x.device)
            if self.channels_last:
                out = out.contiguous(memory_format=torch.channels_last)
            yield out, y


@torch.no_grad()
def predict_proba(model: torch.nn.Module, batches: DeviceBatches) -> npt.NDArray[np.float32]:
    """Softmax scores (N, classes) of `model` over unshuffled `batches`, in eval mode."""
    model.eval()
    parts = [torch.softmax(model(x).float(), dim=1).cpu().numpy() for x, _ in batches]
    return np.concatenate(parts).astype(np.float32)


def _accuracy(
    model: torch.nn.Module, batches: DeviceBatches, labels: npt.NDArray[np.int64]
) -> float:
    return float(np.mean(np.argmax(predict_proba(model, batches), axis=1) == labels))
