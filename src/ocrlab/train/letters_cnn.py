"""The letter reader's strong model: the `letters_cnn` torch CNN trained on EMNIST Letters.

Owns `LettersCNNConfig` and `train_letters_cnn`, which loads the same seeded EMNIST split as the
NumPy MLP, trains with the shared engine (`ocrlab.train.loop.fit`: AdamW, one-cycle schedule) on
the training part, warping each batch either with the engine's small on-device affine maps or with
the MLP's stronger affine + elastic warps (`ocrlab.scratch.augment`), and writes a run folder that
`ocrlab.runtime.checkpoint` loads without flags: `model.safetensors`, `checkpoint.json` (kind
"letters", classes A–Z, input 28×28×1), `history.csv`, `curves.png`, plus `metrics.json` with
top-1/2/5, per-class and a–l test accuracy, `confusion.png` and `misclassified.png`. Imports torch;
nothing below `experiments` imports this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from ocrlab import __version__
from ocrlab.config import to_dict
from ocrlab.data.emnist import LETTERS, SIDE, LetterSet, Protocol
from ocrlab.errors import ConfigError
from ocrlab.models import build
from ocrlab.rng import SAMPLES, make_rng
from ocrlab.runtime import checkpoint
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.scratch.augment import augmenter
from ocrlab.train.batches import DeviceBatches
from ocrlab.train.loop import ClassifierTask, Run, Task, TrainConfig
from ocrlab.train.printed import with_printed
from ocrlab.train.report import (
    LetterSplits,
    letter_scores,
    load_letter_splits,
    with_val_in_train,
    write_figures,
    write_json,
)
from ocrlab.train.skeleton import run_job

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
    """Printed letters per class added to the training part (`ocrlab.train.printed`: training
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


class LettersCNNJob:
    """The letters CNN's steps of the training skeleton (`ocrlab.train.skeleton`): EMNIST's
    seeded splits (plus printed letters), its own warped batches, and the letters report."""

    def __init__(self, config: LettersCNNConfig, data_root: Path | None) -> None:
        self.config, self.data_root, self.train = config, data_root, config.train_config()
        self.description: dict[str, Any] = {"model": MODEL, "config": to_dict(config)}
        self.task: Task = ClassifierTask(config.label_smoothing)

    def load(self) -> LetterSplits:
        c = self.config
        data = load_letter_splits(self.data_root, c.protocol, c.seed, c.val_fraction)
        return with_printed(with_val_in_train(data) if c.refit else data, c.printed, c.seed)

    def split(self, data: LetterSplits) -> None:
        """EMNIST comes split: train (and validation) and test."""

    def build(self, data: LetterSplits, parts: None) -> tuple[nn.Module, Checkpoint]:
        c = self.config
        model_config = {"num_classes": len(LETTERS), "in_channels": 1, "width": c.width,
                        "dropout": c.dropout}  # fmt: skip
        ckpt = Checkpoint(
            kind="letters",
            model=MODEL,
            model_config=model_config,
            classes=list(LETTERS),
            input_size=(SIDE, SIDE),
            channels=1,
            config=to_dict(c),
            title=f"{MODEL} on {len(data.train.labels):,} letters"
            + (f" ({26 * c.printed:,} printed)" if c.printed else " (EMNIST)"),
        )
        return build(MODEL, **model_config), ckpt

    def batches(
        self, data: LetterSplits, parts: None, device: torch.device
    ) -> tuple[DeviceBatches, DeviceBatches]:
        # The test set is only watched, never chosen on: without patience the last weights stay.
        return self.part(data.train, device, True), self.part(data.test, device, False)

    def part(self, letters: LetterSet, device: torch.device, train: bool) -> DeviceBatches:
        c = self.config
        kind = ElasticBatches if train and c.augment == "elastic" else DeviceBatches
        images = letters.images[..., None]  # (N, 28, 28, 1): the engine's (N, H, W, C)
        return kind(
            images, letters.labels, c.batch_size, device, shuffle=train, seed=c.seed,
            augment=train and c.augment == "affine", channels_last=device.type == "cuda",
        )  # fmt: skip

    def finish(
        self, run: Run, data: LetterSplits, parts: None, history: list[dict[str, float]]
    ) -> dict[str, Any]:
        """Scores, figures and metrics.json; the metrics go into the checkpoint too."""
        c, model, out = self.config, run.model, run.folder
        device = next(model.parameters()).device

        def accuracy(letters: LetterSet) -> float:
            proba = predict_proba(model, self.part(letters, device, False))
            return float(np.mean(np.argmax(proba, axis=1) == letters.labels))

        test_proba = predict_proba(model, self.part(data.test, device, False))
        write_figures(out, data.test, test_proba, f"{MODEL}: test set", c.seed)
        test = letter_scores(test_proba, data.test.labels)
        seconds = sum(row["seconds"] for row in history)
        metrics = {
            "model": MODEL,
            "params": sum(p.numel() for p in model.parameters()),
            "train_acc": accuracy(data.train),
            "val_acc": None if c.refit else accuracy(data.val),
            "test_acc": test["top1"],
            "test": test,
            "epochs": len(history),
            "seconds": round(seconds, 1),
            "seconds_per_epoch": round(seconds / len(history), 2),
            "device": str(device),
            "data": data.describe(),
            "config": to_dict(c),
            "ocrlab": __version__,
        }
        write_json(out / "metrics.json", metrics)
        done = dataclasses.replace(checkpoint.load_checkpoint(out), metrics=metrics)
        checkpoint.save_checkpoint(out, done)
        return metrics


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
    job = LettersCNNJob(config, data_root)
    result: dict[str, Any] = run_job(job, out, overwrite=overwrite, callback=callback)
    return result


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
