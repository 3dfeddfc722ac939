"""Printed training letters: EMNIST-like, labelled, deterministic, and added to training only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocrlab.cli import main
from ocrlab.config import replace
from ocrlab.errors import ConfigError
from ocrlab.synth.letters import printed_letter
from ocrlab.train.letters_cnn import PRESETS, LettersCNNConfig
from ocrlab.train.printed import printed_letters, with_printed
from ocrlab.train.report import load_letter_splits


def test_printed_letters_look_like_emnist_and_are_labelled_in_order() -> None:
    letters = printed_letters(1, seed=0)
    assert letters.images.shape == (26, 28, 28) and letters.images.dtype == np.uint8
    assert np.array_equal(letters.labels, np.arange(26))
    assert (letters.images.reshape(26, -1).max(1) == 255).all()
    assert letters.images[:, 0].max() < 128 and letters.images[:, :, 0].max() < 128  # black border


def test_the_same_seed_draws_the_same_letter() -> None:
    a, label, box = printed_letter(3, 40)
    b, _, _ = printed_letter(3, 40)
    assert np.array_equal(a, b) and label == 40 % 26
    top, left, bottom, right = box
    assert 0 < top < bottom < a.shape[0] and 0 < left < right < a.shape[1]


def test_printed_letters_join_the_training_part_only(emnist_dir: Path) -> None:
    data = load_letter_splits(emnist_dir, "subset", seed=0)
    more = with_printed(data, 1, seed=0)
    assert len(more.train.labels) == len(data.train.labels) + 26
    assert "printed:1/class" in more.train.source
    assert more.val is data.val and more.test is data.test
    assert with_printed(data, 0, seed=0) is data


def test_the_cli_flag_reaches_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "letters-cnn", "--help"])
    assert "--printed N" in capsys.readouterr().out
    assert replace(PRESETS["quick"], {"printed": 3}).printed == 3
    with pytest.raises(ConfigError):
        LettersCNNConfig(printed=-1)
