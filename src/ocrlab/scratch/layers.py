"""Network building blocks: the `Layer` contract, reusable buffers and the `Dense` layer.

A layer keeps its forward and its backward side by side (micrograd style) and owns the buffers both
write into, so a training step allocates nothing after the first batch. Arrays are (rows, features),
float32 in the classifier. This module imports NumPy and the standard library only, never torch or
other ocrlab code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
"""A float32 array; activations also run in float64 when fed it, as finite-difference tests do."""

Parameter = tuple[F32, F32]
"""A trainable array and the gradient buffer that `backward` fills for it."""


class Workspace:
    """Buffers keyed by name and reused across batches; a smaller batch gets the first rows."""

    def __init__(self) -> None:
        self._arrays: dict[str, npt.NDArray[Any]] = {}

    def get(self, key: str, rows: int, cols: int, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
        """Return a C-contiguous (rows, cols) buffer; its contents are whatever was left there."""
        buf = self._arrays.get(key)
        if buf is None or buf.shape[0] < rows or buf.shape[1] != cols or buf.dtype != dtype:
            buf = np.empty((rows, cols), dtype=dtype)
            self._arrays[key] = buf
        return buf[:rows]


class Layer(ABC):
    """One step of the network; `backward` must follow the `forward` whose values it uses."""

    def __init__(self) -> None:
        self.workspace = Workspace()

    def buffer(self, key: str, like: F32, cols: int | None = None) -> F32:
        """A reusable buffer with `like`'s rows and dtype and `cols` columns (default `like`'s)."""
        width = like.shape[1] if cols is None else cols
        out: F32 = self.workspace.get(key, like.shape[0], width, like.dtype)
        return out

    @abstractmethod
    def forward(self, x: F32) -> F32:
        """Map (rows, in) to (rows, out); the result is a buffer the next forward overwrites."""

    @abstractmethod
    def backward(self, grad: F32) -> F32:
        """Map dJ/d(output) (rows, out) to dJ/d(input) (rows, in), filling parameter gradients."""

    def backward_params(self, grad: F32) -> None:  # noqa: B027 - layers without weights do nothing
        """Fill parameter gradients only, for a first layer whose input gradient nobody needs."""

    def parameters(self) -> list[Parameter]:
        """Trainable (value, gradient) pairs; empty for layers without weights."""
        return []


class Dense(Layer):
    """Affine map `x @ W + b` with W (in, out) and b (out,), and L2 weight decay on W.

    `backward` fills `dW` and `db` and returns the input gradient; for the first layer the network
    calls `backward_params` instead, which skips the largest matrix product of the step.
    """

    def __init__(self, weight: F32, bias: F32, l2: float = 0.0) -> None:
        super().__init__()
        if weight.ndim != 2 or bias.shape != (weight.shape[1],):
            raise ValueError(
                f"weight (in, out) and bias (out,) disagree: {weight.shape}, {bias.shape}"
            )
        self.W = weight
        self.b = bias
        self.dW = np.zeros_like(weight)
        self.db = np.zeros_like(bias)
        self.l2 = l2
        self._x: F32 = np.empty((0, weight.shape[0]), dtype=weight.dtype)

    def forward(self, x: F32) -> F32:
        self._x = x
        z = self.buffer("z", x, self.W.shape[1])
        np.matmul(x, self.W, out=z)
        np.add(z, self.b, out=z)
        return z

    def backward_params(self, grad: F32) -> None:
        """Fill dW = xᵀ·grad + l2·W and db = Σ grad; `grad` already carries the mean's 1/m."""
        np.matmul(self._x.T, grad, out=self.dW)
        if self.l2:
            decay = self.workspace.get("decay", self.W.shape[0], self.W.shape[1], self.W.dtype)
            np.multiply(self.W, self.l2, out=decay)
            np.add(self.dW, decay, out=self.dW)
        np.sum(grad, axis=0, out=self.db)

    def backward(self, grad: F32) -> F32:
        self.backward_params(grad)
        dx = self.buffer("dx", grad, self.W.shape[0])
        np.matmul(grad, self.W.T, out=dx)
        return dx

    def parameters(self) -> list[Parameter]:
        return [(self.W, self.dW), (self.b, self.db)]


def forward_all(layers: Sequence[Layer], x: F32) -> F32:
    """Run `layers` in order on x (rows, in); returns the last layer's output buffer."""
    for layer in layers:
        x = layer.forward(x)
    return x


def backward_all(layers: Sequence[Layer], grad: F32) -> None:
    """Backpropagate dJ/d(output) through `layers`, filling every parameter gradient.

    The first layer's input gradient is never computed: the input is data, not a parameter.
    """
    for layer in reversed(layers[1:]):
        grad = layer.backward(grad)
    layers[0].backward_params(grad)


def all_parameters(layers: Sequence[Layer]) -> list[Parameter]:
    """Every (value, gradient) pair of `layers`, in order."""
    return [p for layer in layers for p in layer.parameters()]
