"""Torch models as plain `nn.Module`s, built by name; no training loops live here.

A checkpoint stores a model's name and config, so loading one needs no flags: `BUILDERS` maps
each name to its builder `(**config) -> nn.Module`. Adding a model is one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ocrlab.errors import ConfigError
from ocrlab.models.crnn import crnn
from ocrlab.models.letters_cnn import letters_cnn
from ocrlab.models.resnet import resnet18
from ocrlab.models.seq2seq import seq2seq

__all__ = ["BUILDERS", "build"]

BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "resnet18": resnet18,
    "seq2seq": seq2seq,
    "letters_cnn": letters_cnn,
    "crnn": crnn,
}


def build(name: str, **config: Any) -> nn.Module:
    """Instantiate the model `name` of `BUILDERS` with `config`."""
    if name not in BUILDERS:
        raise ConfigError(f"unknown model {name!r}; known models: {sorted(BUILDERS)}")
    try:
        return BUILDERS[name](**config)
    except TypeError as exc:
        raise ConfigError(f"bad config for model {name!r}: {exc}") from None
