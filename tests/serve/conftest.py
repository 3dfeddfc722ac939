"""Fixtures for the server tests: a tiny trained word classifier and datasets, made once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from ocrlab.read.predictor import Predictor
from ocrlab.synth import PRESETS, generate
from ocrlab.train.classifier import ClassifierConfig, train_classifier
from ocrlab.train.loop import TrainConfig

# Five classes, so a top-5 list is full. amp=False: bfloat16 autocast is slow on small CPUs.
TINY = ClassifierConfig(
    width=8,
    input_height=16,
    input_width=64,
    train=TrainConfig(epochs=1, batch_size=16, device="cpu", amp=False),
)


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`easy/` (PNG files, 5 words x 10 fonts), `packed/` (shards) and `run/` (a trained model)."""
    root = tmp_path_factory.mktemp("serve")
    easy = dataclasses.replace(PRESETS["easy"], words=5)
    generate(easy, root / "easy")
    generate(dataclasses.replace(easy, format="packed", shard_size=16), root / "packed")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a busy 2-core machine, two threads spin against each other
    try:
        train_classifier([root / "easy"], root / "run", TINY)
    finally:
        torch.set_num_threads(threads)
    return root


@pytest.fixture(scope="session")
def predictor(data: Path) -> Predictor:
    return Predictor.load(data / "run", "cpu")


@pytest.fixture(scope="session")
def png(data: Path) -> bytes:
    """A word image from the dataset, as PNG bytes."""
    return next((data / "easy" / "images").iterdir()).read_bytes()


@pytest.fixture
def label_folder(tmp_path: Path) -> Path:
    """Three unlabelled images of short texts, for `ocrlab label`."""
    from PIL import Image, ImageDraw

    root = tmp_path / "unlabelled"
    root.mkdir()
    for i, text in enumerate(["ab", "ca", "bc"]):
        img = Image.new("L", (90, 40), 230)
        ImageDraw.Draw(img).text((10, 8), text, fill=20, font_size=22)
        img.save(root / f"img{i}.png")
    return root
