"""Weight initialisation: Xavier uniform (the formula of "Letter Recognition"), He normal, and the
rule between them.

Random weights break the symmetry between units; their scale keeps activations and gradients from
exploding or vanishing with depth. Every draw comes from an explicit `numpy.random.Generator`, in
float32. NumPy and the standard library only.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np

from .activations import RELU_LIKE
from .layers import F32

InitName = Literal["auto", "xavier", "he"]
INIT_NAMES: tuple[str, ...] = get_args(InitName)


def as_generator(random_state: int | np.random.Generator) -> np.random.Generator:
    """The generator itself, or a fresh PCG64 generator seeded with the non-negative int."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise TypeError(f"random_state must be an int or a numpy Generator, got {random_state!r}")
    if random_state < 0:
        raise ValueError(f"random_state must be non-negative, got {random_state}")
    return np.random.Generator(np.random.PCG64(int(random_state)))


def xavier_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> F32:
    """(fan_in, fan_out) weights in U[-ε, ε], ε = √6/√(fan_in + fan_out) (Glorot & Bengio, 2010)."""
    eps = np.float32(math.sqrt(6.0) / math.sqrt(fan_in + fan_out))
    return 2 * eps * rng.random((fan_in, fan_out), dtype=np.float32) - eps


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> F32:
    """(fan_in, fan_out) weights from N(0, 2/fan_in) (He et al., 2015), for ReLU-like units."""
    std = np.float32(math.sqrt(2.0 / fan_in))
    return std * rng.standard_normal((fan_in, fan_out), dtype=np.float32)


def resolve_init(init: str, activation: str) -> Literal["xavier", "he"]:
    """The scheme for weights feeding `activation`: "auto" is He for ReLU-like units, else Xavier.

    `activation` may also be an output name ("softmax", "sigmoid"), which "auto" gives Xavier.
    """
    if init == "xavier":
        return "xavier"
    if init == "he":
        return "he"
    if init == "auto":
        return "he" if activation in RELU_LIKE else "xavier"
    raise ValueError(f"unknown init {init!r}; choose one of: {', '.join(INIT_NAMES)}")


def init_weights(
    fan_in: int, fan_out: int, scheme: Literal["xavier", "he"], rng: np.random.Generator
) -> F32:
    """Draw (fan_in, fan_out) weights with the resolved `scheme`."""
    draw = he_normal if scheme == "he" else xavier_uniform
    return draw(fan_in, fan_out, rng)
