"""The letters CNN: built by name, logits of the right shape, arguments checked."""

from __future__ import annotations

import pytest
import torch

from ocrlab.errors import ConfigError
from ocrlab.models import BUILDERS, build
from ocrlab.models.letters_cnn import LettersCNN


def test_registered_and_maps_letters_to_logits() -> None:
    assert "letters_cnn" in BUILDERS
    model = build("letters_cnn", num_classes=26, in_channels=1, width=8)
    assert isinstance(model, LettersCNN)
    logits = model.eval()(torch.zeros(3, 1, 28, 28))
    assert logits.shape == (3, 26) and torch.isfinite(logits).all()


def test_gradients_reach_the_first_layer() -> None:
    model = LettersCNN(width=4)
    model(torch.randn(2, 1, 28, 28)).sum().backward()
    first = next(model.parameters())
    assert first.grad is not None and first.grad.abs().sum() > 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        LettersCNN(width=0)
    with pytest.raises(ConfigError):
        build("letters_cnn", depth=3)
