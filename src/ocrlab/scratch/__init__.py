"""Neural networks written from scratch in NumPy: the MLP of "Letter Recognition" and its parts.

`MLPClassifier` follows the scikit-learn estimator contract; the building blocks (activations, fused
output losses, Dense layers, initialisers, SGD with momentum, rotation augmentation) are importable
on their own. This package imports NumPy and the Python standard library only: no torch, no scipy,
no other ocrlab module, so it runs anywhere NumPy does.
"""

from __future__ import annotations

from .activations import ACTIVATION_NAMES, ACTIVATIONS, ActivationName, get_activation
from .augment import random_rotate, rotate
from .layers import Dense, Layer
from .loop import EpochRecord
from .losses import OUTPUT_NAMES, OutputName, get_output
from .mlp import MLPClassifier

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "OUTPUT_NAMES",
    "ActivationName",
    "Dense",
    "EpochRecord",
    "Layer",
    "MLPClassifier",
    "OutputName",
    "get_activation",
    "get_output",
    "random_rotate",
    "rotate",
]
