"""Models by name: a checkpoint stores the name and the config, so loading one needs no flags.

Each model module registers a builder `(config dict) -> nn.Module`; registering a name twice is an
error, so two models can never silently shadow each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from ocrlab.errors import ConfigError

Builder = Callable[..., nn.Module]
_REGISTRY: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Decorator: make `builder` available as `build(name, **config)`."""

    def add(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"a model named {name!r} is already registered")
        _REGISTRY[name] = builder
        return builder

    return add


def registered() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def build(name: str, **config: Any) -> nn.Module:
    """Instantiate the model registered as `name` with `config`."""
    _load_all()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}; known models: {sorted(_REGISTRY)}")
    try:
        return _REGISTRY[name](**config)
    except TypeError as exc:
        raise ConfigError(f"bad config for model {name!r}: {exc}") from None


def _load_all() -> None:
    from ocrlab.models import crnn, letters_cnn, resnet, seq2seq  # noqa: F401  (registers on import)
