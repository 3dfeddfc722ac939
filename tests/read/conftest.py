"""Fixtures for the letter reader: letters drawn with ocrlab itself, a template-matching letter
model (deterministic, no training) and a tiny untrained letters run folder for the CLI paths."""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from pathlib import Path

import numpy as np
import pytest
import torch

from ocrlab.data.emnist import LETTERS
from ocrlab.models import build
from ocrlab.runtime import checkpoint
from ocrlab.runtime.binarise import to_emnist
from ocrlab.runtime.letter_lines import LetterConfig, find_lines
from ocrlab.runtime.segment import merge
from ocrlab.synth.fonts import load_font, matplotlib_font_dir
from ocrlab.synth.letters import compose, draw_ink

FONT = "DejaVuSans-Bold.ttf"


def draw(
    text: str,
    ink: tuple[int, int, int] = (25, 110, 55),
    background: tuple[int, int, int] = (200, 220, 250),
    size: int = 64,
    tracking: float = 8.0,
    font: str = FONT,
    margin: int = 20,
) -> np.ndarray:
    """`text` ('\\n' between lines) in `font` on a flat background, as (H, W, 3) uint8."""
    alpha = draw_ink(text, load_font(matplotlib_font_dir() / font, size), tracking)
    h, w = alpha.shape[0] + 2 * margin, alpha.shape[1] + 2 * margin
    flat = np.broadcast_to(np.array(background, np.uint8), (h, w, 3))
    return np.clip(compose(alpha, ink, flat, margin, margin), 0, 255).astype(np.uint8)


class TemplateModel:
    """A `LetterModel` that knows one face: each letter's 28×28 made by the letter reader from a
    black-on-white drawing; an input scores by its correlation with each template."""

    def __init__(self, font: str = FONT) -> None:
        self.classes = list(LETTERS)
        config = LetterConfig()
        rows = []
        for letter in LETTERS:
            _, lines = find_lines(draw(letter, (0, 0, 0), (255, 255, 255), font=font), config)
            piece = reduce(merge, [p for line in lines for p in line])
            rows.append(to_emnist(piece.mask, config.preprocess).ravel())
        self.templates = self._centre(np.stack(rows).astype(np.float32))

    @staticmethod
    def _centre(x: np.ndarray) -> np.ndarray:
        x = x - x.mean(1, keepdims=True)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        x = self._centre(batch.reshape(len(batch), -1).astype(np.float32))
        logits = 30.0 * x @ self.templates.T
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


Draw = Callable[..., np.ndarray]


@pytest.fixture(scope="session", name="draw")
def draw_fixture() -> Draw:
    """`draw(text, ink, background, size, tracking, font, margin)` → (H, W, 3) uint8."""
    return draw


@pytest.fixture(scope="session")
def templates() -> TemplateModel:
    return TemplateModel()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 4-channel letters_cnn run folder: enough for every path but accuracy."""
    run = tmp_path_factory.mktemp("letters") / "run"
    run.mkdir()
    torch.manual_seed(0)
    config = {"num_classes": 26, "in_channels": 1, "width": 4, "dropout": 0.0}
    checkpoint.save_weights(run / checkpoint.WEIGHTS, build("letters_cnn", **config))
    ckpt = checkpoint.Checkpoint(
        kind="letters",
        model="letters_cnn",
        model_config=config,
        classes=list(LETTERS),
        input_size=(28, 28),
        channels=1,
    )
    checkpoint.save_checkpoint(run, ckpt)
    return run
