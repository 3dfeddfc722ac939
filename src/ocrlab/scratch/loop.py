"""The MLP's training loop: a validation split, then epochs of mini-batch SGD with momentum.

`MLPClassifier.fit` checks its data and builds the layers; this module runs them: shuffled
mini-batches every epoch (warped on the fly when asked), a decayed learning rate, one
`EpochRecord` per epoch, and early stopping that ends on the weights of the lowest validation
loss. NumPy and the standard library only.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np

from .augment import AugmentName, augmenter
from .layers import F32, Layer, all_parameters
from .losses import Labels, OutputName, get_output
from .optim import SGD, EarlyStopping, decayed_lr, evaluate, run_epoch

PREDICT_ROWS = 2048
"""Rows per inference chunk: big enough for fast matrix products, small enough for 100k rows."""


@dataclasses.dataclass(frozen=True)
class EpochRecord:
    """One row of `history_`: mean cross-entropy without the L2 term, and accuracy in [0, 1].

    Training figures average the epoch's mini-batches (augmented, if augmenting) as the weights
    moved; validation figures are None when there was no validation set.
    """

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    seconds: float
    lr: float

    def __str__(self) -> str:
        val = ""
        if self.val_loss is not None and self.val_acc is not None:
            val = f" val_loss={self.val_loss:.4f} val_acc={self.val_acc:.4f}"
        train = f"loss={self.train_loss:.4f} acc={self.train_acc:.4f}"
        return f"epoch {self.epoch}: {train}{val} ({self.seconds:.1f}s)"


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How `train` runs: the estimator's training parameters."""

    lr: float
    momentum: float
    batch_size: int
    epochs: int
    lr_decay: float
    early_stopping: bool
    patience: int
    augment: bool | AugmentName
    shuffle: bool


def holdout(
    X: F32, y: Labels, fraction: float, rng: np.random.Generator
) -> tuple[tuple[F32, Labels], tuple[F32, Labels]]:
    """(train, validation): `fraction` of the rows held out at random for early stopping."""
    n_val = round(X.shape[0] * fraction)
    if not 0 < n_val < X.shape[0]:
        raise ValueError(f"validation_fraction leaves no rows to validate or train ({n_val})")
    order = rng.permutation(X.shape[0])
    held, kept = order[:n_val], order[n_val:]
    return (X[kept], y[kept]), (X[held], y[held])


def train(
    layers: list[Layer],
    output_name: OutputName,
    data: tuple[F32, Labels],
    val: tuple[F32, Labels] | None,
    schedule: Schedule,
    rng: np.random.Generator,
    report: Callable[[EpochRecord], None],
) -> int:
    """Run the epochs on `layers` in place; returns the 1-based epoch whose weights are kept (with
    early stopping, the lowest validation loss's; else the last)."""
    output = get_output(output_name)
    params = all_parameters(layers)
    optimiser = SGD(params, schedule.lr, schedule.momentum)
    stopper = EarlyStopping(params, schedule.patience) if schedule.early_stopping else None
    warp = schedule.augment if isinstance(schedule.augment, str) else "rotate"
    transform = augmenter(warp, rng) if schedule.augment else None
    rows = data[0].shape[0]
    epoch = 0
    for epoch in range(1, schedule.epochs + 1):
        optimiser.lr = decayed_lr(schedule.lr, schedule.lr_decay, epoch - 1)
        started = time.perf_counter()
        order = rng.permutation(rows) if schedule.shuffle else np.arange(rows)
        loss, acc = run_epoch(
            layers, output, optimiser, data, order, schedule.batch_size, transform
        )
        val_loss, val_acc = evaluate(layers, output, val, PREDICT_ROWS) if val else (None, None)
        seconds = time.perf_counter() - started
        report(EpochRecord(epoch, loss, acc, val_loss, val_acc, seconds, optimiser.lr))
        if not math.isfinite(loss):
            raise FloatingPointError(f"training diverged at epoch {epoch}; lower lr")
        if stopper and val_loss is not None and stopper.update(epoch, val_loss):
            break
    if stopper:
        stopper.restore()
        return stopper.best_epoch
    return epoch
