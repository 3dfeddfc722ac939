"""Output layers fused with their losses: sigmoid + binary and softmax + categorical cross-entropy.

Fusing the output nonlinearity with its loss gives the gradient of "Letter Recognition" w.r.t. the
logits, (ŷ - y)/m, with no division by ŷ, and lets the loss be computed from logits in log-sum-exp
form, so it never takes log 0. Labels are integer class indices; one-hot targets are never
materialised. NumPy and the standard library only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from .layers import F32, Workspace

OutputName = Literal["softmax", "sigmoid"]
OUTPUT_NAMES: tuple[str, ...] = get_args(OutputName)
Labels = npt.NDArray[np.intp]


class OutputLoss(ABC):
    """Mean loss of logits (m, K) against labels (m,) in [0, K); backward gives dJ/dlogits."""

    name: str

    def __init__(self) -> None:
        self.workspace = Workspace()
        self._p: F32 = np.empty((0, 0), dtype=np.float32)
        self._y: Labels = np.empty(0, dtype=np.intp)

    @abstractmethod
    def forward(self, logits: F32, y: Labels) -> float:
        """The mean loss of the batch; caches ŷ for `backward`."""

    @abstractmethod
    def probabilities(self, logits: F32) -> F32:
        """Per-class scores (m, K) that sum to one per row; a new array."""

    def backward(self) -> F32:
        """dJ/dlogits = (ŷ - onehot(y))/m for the batch of the last `forward`."""
        m = self._p.shape[0]
        g: F32 = self.workspace.get("g", m, self._p.shape[1], self._p.dtype)
        np.copyto(g, self._p)
        g[np.arange(m), self._y] -= 1.0
        np.multiply(g, 1.0 / m, out=g)
        return g


class SoftmaxCrossEntropy(OutputLoss):
    """ŷ = softmax(z); J = -(1/m) Σ_i log ŷ_{i,y_i}; max subtraction keeps exp from overflowing."""

    name = "softmax"

    def forward(self, logits: F32, y: Labels) -> float:
        m, k = logits.shape
        p: F32 = self.workspace.get("p", m, k, logits.dtype)
        np.subtract(logits, logits.max(axis=1, keepdims=True), out=p)
        shifted_true = p[np.arange(m), y]
        np.exp(p, out=p)
        total = p.sum(axis=1, keepdims=True)
        np.divide(p, total, out=p)
        self._p, self._y = p, y
        # log ŷ_y = (z_y - max z) - log Σ exp(z - max z), finite even where ŷ_y underflows to 0.
        return float(np.mean(np.log(total[:, 0]) - shifted_true))

    def probabilities(self, logits: F32) -> F32:
        p: F32 = logits - logits.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        np.divide(p, p.sum(axis=1, keepdims=True), out=p)
        return p


class SigmoidBinaryCrossEntropy(OutputLoss):
    """ŷ = σ(z) per class; J = (1/m) Σ_i Σ_k [-y log ŷ - (1-y) log(1-ŷ)], as "Letter Recognition"
    sums it.

    Per element, -y log σ(z) - (1-y) log(1-σ(z)) = max(z, 0) - z·y + log(1 + e^-|z|).
    """

    name = "sigmoid"

    def forward(self, logits: F32, y: Labels) -> float:
        m, k = logits.shape
        e: F32 = self.workspace.get("e", m, k, logits.dtype)
        p: F32 = self.workspace.get("p", m, k, logits.dtype)
        np.abs(logits, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.log1p(e, out=p)
        per_row = p.sum(axis=1) + np.maximum(logits, 0.0).sum(axis=1) - logits[np.arange(m), y]
        # σ(z) = 1/(1+e^-|z|) for z ≥ 0 and e^-|z|/(1+e^-|z|) below: no exp of a large positive.
        np.add(e, 1.0, out=p)
        np.reciprocal(p, out=p)
        np.multiply(p, e, out=p, where=logits < 0.0)
        self._p, self._y = p, y
        return float(np.mean(per_row))

    def probabilities(self, logits: F32) -> F32:
        # One-vs-rest scores are normalised per row, as scikit-learn's OneVsRestClassifier does.
        e = np.exp(-np.abs(logits))
        p = np.where(logits >= 0.0, 1.0, e) / (1.0 + e)
        np.divide(p, p.sum(axis=1, keepdims=True), out=p)
        return p.astype(logits.dtype, copy=False)


OUTPUTS: dict[str, type[OutputLoss]] = {
    cls.name: cls for cls in (SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy)
}


def get_output(name: str) -> OutputLoss:
    """A fresh fused output layer and loss for `name`, one of `OUTPUT_NAMES`."""
    if name not in OUTPUTS:
        raise ValueError(f"unknown output {name!r}; choose one of: {', '.join(OUTPUT_NAMES)}")
    return OUTPUTS[name]()
