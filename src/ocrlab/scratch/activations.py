"""Hidden-layer activations, each a `Layer` whose forward and derivative sit side by side.

Forward caches what the derivative needs (its output, or exp(z) and tanh terms), so backward never
recomputes a transcendental. Every exp argument is clipped, so |z| up to 1e4 in float32 gives no
overflow. `ACTIVATIONS` maps the names of `ActivationName` to their classes. NumPy and the standard
library only.
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args

import numpy as np
import numpy.typing as npt

from .layers import F32, Layer

ActivationName = Literal["sigmoid", "tanh", "relu", "leaky_relu", "swish", "mish", "tanhexp"]
ACTIVATION_NAMES: tuple[str, ...] = get_args(ActivationName)

_EXP_MAX = 20.0
"""tanh(e^20) and tanh(softplus(20)) are exactly 1 in float32: a larger z could only overflow."""
_SIGMOID_EXP_MAX = 80.0
"""exp(80) ≈ 5.5e34 still fits float32 (max ≈ 3.4e38) and 1/(1+e^80) is a normal float32."""


def _sigmoid(z: F32, out: F32) -> F32:
    """Write 1/(1+e^-z) into `out`, clipping the exponent so very negative z cannot overflow."""
    np.negative(z, out=out)
    np.minimum(out, _SIGMOID_EXP_MAX, out=out)
    np.exp(out, out=out)
    np.add(out, 1.0, out=out)
    np.reciprocal(out, out=out)
    return out


def _nonnegative(layer: Layer, z: F32) -> npt.NDArray[np.bool_]:
    """The mask z ≥ 0 in a buffer of `layer`."""
    mask: npt.NDArray[np.bool_] = layer.workspace.get("mask", z.shape[0], z.shape[1], np.bool_)
    return np.greater_equal(z, 0.0, out=mask)


class Activation(Layer):
    """An elementwise nonlinearity g: forward gives g(z), backward multiplies by g'(z)."""

    name: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        # Empty until the first forward; backward reads only what its own forward cached.
        self._z: F32 = np.empty((0, 0), dtype=np.float32)
        self._a = self._e = self._t = self._s = self._z

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """g = 1/(1+e^-z); g' = g(1-g)."""

    name = "sigmoid"

    def forward(self, x: F32) -> F32:
        self._a = _sigmoid(x, self.buffer("a", x))
        return self._a

    def backward(self, grad: F32) -> F32:
        d = self.buffer("d", grad)
        np.subtract(1.0, self._a, out=d)
        np.multiply(d, self._a, out=d)
        np.multiply(d, grad, out=d)
        return d


class Tanh(Activation):
    """g = tanh z; g' = 1 - g²."""

    name = "tanh"

    def forward(self, x: F32) -> F32:
        self._a = np.tanh(x, out=self.buffer("a", x))
        return self._a

    def backward(self, grad: F32) -> F32:
        d = self.buffer("d", grad)
        np.multiply(self._a, self._a, out=d)
        np.subtract(1.0, d, out=d)
        np.multiply(d, grad, out=d)
        return d


class ReLU(Activation):
    """g = max(z, 0); g' = 1 for z ≥ 0 and 0 below, as "Letter Recognition" defines it at z = 0."""

    name = "relu"

    def forward(self, x: F32) -> F32:
        self._z = x
        return np.maximum(x, 0.0, out=self.buffer("a", x))

    def backward(self, grad: F32) -> F32:
        # Multiplying by a 0/1 mask is branch-free; copyto(where=) is ~10x slower on mixed signs.
        return np.multiply(grad, _nonnegative(self, self._z), out=self.buffer("d", grad))


class LeakyReLU(Activation):
    """g = z for z ≥ 0 and αz below; g' = 1 or α."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"leaky_relu alpha must be in [0, 1), got {alpha}")
        self.alpha = alpha

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"

    def forward(self, x: F32) -> F32:
        self._z = x
        a = self.buffer("a", x)
        # With 0 ≤ α < 1, max(z, αz) picks z above zero and αz below.
        np.multiply(x, self.alpha, out=a)
        return np.maximum(x, a, out=a)

    def backward(self, grad: F32) -> F32:
        d = self.buffer("d", grad)
        np.multiply(_nonnegative(self, self._z), grad.dtype.type(1.0 - self.alpha), out=d)
        np.add(d, grad.dtype.type(self.alpha), out=d)
        return np.multiply(d, grad, out=d)


class Swish(Activation):
    """g = z·σ(z); g' = g + σ(z)(1 - g)."""

    name = "swish"

    def forward(self, x: F32) -> F32:
        self._s = _sigmoid(x, self.buffer("s", x))
        self._a = np.multiply(x, self._s, out=self.buffer("a", x))
        return self._a

    def backward(self, grad: F32) -> F32:
        d = self.buffer("d", grad)
        np.subtract(1.0, self._a, out=d)
        np.multiply(d, self._s, out=d)
        np.add(d, self._a, out=d)
        np.multiply(d, grad, out=d)
        return d


class Mish(Activation):
    """g = z·tanh(softplus z); g' = t + z·σ(z)(1 - t²) with t = tanh(softplus z).

    tanh(log(1+e^z)) = n/(n+2) with n = e^z(e^z+2), one exp instead of exp, log1p and tanh.
    """

    name = "mish"

    def forward(self, x: F32) -> F32:
        self._z = x
        e = np.minimum(x, _EXP_MAX, out=self.buffer("e", x))
        np.exp(e, out=e)
        t = np.add(e, 2.0, out=self.buffer("t", x))
        np.multiply(t, e, out=t)
        a = np.add(t, 2.0, out=self.buffer("a", x))
        np.divide(t, a, out=t)
        self._e, self._t = e, t
        return np.multiply(x, t, out=a)

    def backward(self, grad: F32) -> F32:
        d = self.buffer("d", grad)
        e = self._e
        np.add(e, 1.0, out=d)
        # σ(z) = e^z/(1+e^z) overwrites the cached e^z, which this backward is the last to read.
        np.divide(e, d, out=e)
        np.multiply(self._t, self._t, out=d)
        np.subtract(1.0, d, out=d)
        np.multiply(d, e, out=d)
        np.multiply(d, self._z, out=d)
        np.add(d, self._t, out=d)
        np.multiply(d, grad, out=d)
        return d


class TanhExp(Activation):
    """g = z·tanh(e^z); g' = tanh(e^z) - z·e^z(tanh²(e^z) - 1) (Liu & Di, 2020)."""

    name = "tanhexp"

    def forward(self, x: F32) -> F32:
        self._z = x
        e = np.minimum(x, _EXP_MAX, out=self.buffer("e", x))
        np.exp(e, out=e)
        t = np.tanh(e, out=self.buffer("t", x))
        self._e, self._t = e, t
        return np.multiply(x, t, out=self.buffer("a", x))

    def backward(self, grad: F32) -> F32:
        d = self.buffer("d", grad)
        np.multiply(self._t, self._t, out=d)
        np.subtract(1.0, d, out=d)
        np.multiply(d, self._e, out=d)
        np.multiply(d, self._z, out=d)
        np.add(d, self._t, out=d)
        np.multiply(d, grad, out=d)
        return d


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Swish, Mish, TanhExp)
}
RELU_LIKE: frozenset[str] = frozenset({"relu", "leaky_relu", "swish", "mish", "tanhexp"})
"""Activations that are unbounded above and near-zero below, for which He initialisation suits."""


def get_activation(name: str) -> Activation:
    """A fresh activation layer for `name`, one of `ACTIVATION_NAMES`."""
    if name not in ACTIVATIONS:
        valid = ", ".join(ACTIVATION_NAMES)
        raise ValueError(f"unknown activation {name!r}; choose one of: {valid}")
    return ACTIVATIONS[name]()
