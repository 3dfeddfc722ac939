from __future__ import annotations

import pytest
import torch

from ocrlab.errors import ConfigError
from ocrlab.models import BUILDERS, build


def test_standard_resnet18_parameter_count() -> None:
    """torchvision's resnet18 (1,000 classes) has 11,689,512 parameters; ours must too."""
    model = build("resnet18", num_classes=1000, dropout=0.0)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512


@pytest.mark.parametrize(("h", "w", "c"), [(48, 336, 3), (32, 224, 3), (28, 28, 1)])
def test_any_input_size(h: int, w: int, c: int) -> None:
    model = build("resnet18", num_classes=7, in_channels=c, width=8).eval()
    assert model(torch.zeros(2, c, h, w)).shape == (2, 7)


def test_build_rejects_unknown_names_and_bad_configs() -> None:
    assert "resnet18" in BUILDERS
    with pytest.raises(ConfigError, match="unknown model"):
        build("resnet1000")
    with pytest.raises(ConfigError, match="bad config"):
        build("resnet18", classes=3)
