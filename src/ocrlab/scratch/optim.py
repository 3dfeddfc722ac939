"""Fitting a network: mini-batch epochs, SGD with momentum, learning-rate decay, early stopping.

The update is PyTorch's: v ← μ·v + g, w ← w - lr·v, applied in place to the arrays the layers own,
so a step allocates nothing. Early stopping follows "Letter Recognition": keep the weights that
minimise the validation loss and stop once it no longer decreases. NumPy and the standard library
only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from .layers import F32, Layer, Parameter, backward_all, forward_all
from .losses import Labels, OutputLoss


class SGD:
    """Mini-batch SGD with (heavy-ball) momentum over (value, gradient) pairs; `lr` may change."""

    def __init__(self, params: Sequence[Parameter], lr: float, momentum: float = 0.0) -> None:
        if lr <= 0.0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self._velocity: list[F32] = [np.zeros_like(w) for w, _ in self.params]
        self._scratch: list[F32] = [np.empty_like(w) for w, _ in self.params]

    def step(self) -> None:
        """Move every value against its gradient's running average."""
        for (w, g), v, tmp in zip(self.params, self._velocity, self._scratch, strict=True):
            np.multiply(v, self.momentum, out=v)
            np.add(v, g, out=v)
            np.multiply(v, self.lr, out=tmp)
            np.subtract(w, tmp, out=w)


def decayed_lr(lr: float, decay: float, epoch: int) -> float:
    """The learning rate of 0-based `epoch`: lr·decay^epoch (decay 1 keeps it constant)."""
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"lr_decay must be in (0, 1], got {decay}")
    return lr * decay**epoch


class EarlyStopping:
    """Keeps a copy of the parameters of the epoch with the lowest validation loss.

    `update` says to stop once `patience` epochs in a row have not lowered the best loss; `restore`
    puts the best copy back into the live arrays.
    """

    def __init__(self, params: Sequence[Parameter], patience: int) -> None:
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience = patience
        self.best_loss = math.inf
        self.best_epoch = 0
        self._live = [w for w, _ in params]
        self._best = [w.copy() for w in self._live]
        self._waited = 0

    def update(self, epoch: int, loss: float) -> bool:
        """Record `loss` of 1-based `epoch`; True when training should stop."""
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self._waited = loss, epoch, 0
            for live, best in zip(self._live, self._best, strict=True):
                np.copyto(best, live)
            return False
        self._waited += 1
        return self._waited >= self.patience

    def restore(self) -> None:
        """Copy the best parameters back into the arrays the layers train."""
        for live, best in zip(self._live, self._best, strict=True):
            np.copyto(live, best)


def run_epoch(
    layers: Sequence[Layer],
    output: OutputLoss,
    optimiser: SGD,
    data: tuple[F32, Labels],
    order: npt.NDArray[np.intp],
    batch_size: int,
    transform: Callable[[F32], F32] | None = None,
) -> tuple[float, float]:
    """One SGD pass over the rows of `data` in `order`; returns the mean batch loss and accuracy.

    Each batch is gathered into one reused buffer, which `transform` may change in place.
    """
    X, y = data
    batch = np.empty((min(batch_size, order.size), X.shape[1]), dtype=X.dtype)
    loss_sum, correct = 0.0, 0
    for start in range(0, order.size, batch_size):
        idx = order[start : start + batch_size]
        # mode="clip" lets take write straight into the buffer; "raise" copies through a temp.
        xb = np.take(X, idx, axis=0, out=batch[: idx.size], mode="clip")
        yb = y[idx]
        if transform is not None:
            transform(xb)
        logits = forward_all(layers, xb)
        loss_sum += output.forward(logits, yb) * idx.size
        correct += int(np.count_nonzero(np.argmax(logits, axis=1) == yb))
        backward_all(layers, output.backward())
        optimiser.step()
    return loss_sum / order.size, correct / order.size


def evaluate(
    layers: Sequence[Layer], output: OutputLoss, data: tuple[F32, Labels], rows: int
) -> tuple[float, float]:
    """Mean loss and accuracy of `layers` on `data`, `rows` at a time."""
    X, y = data
    loss_sum, correct = 0.0, 0
    for start in range(0, X.shape[0], rows):
        xb, yb = X[start : start + rows], y[start : start + rows]
        logits = forward_all(layers, xb)
        loss_sum += output.forward(logits, yb) * yb.size
        correct += int(np.count_nonzero(np.argmax(logits, axis=1) == yb))
    return loss_sum / y.size, correct / y.size
