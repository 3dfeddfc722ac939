"""The general reader's line preprocessing and its CTC decoding."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.runtime.ctc import ctc_greedy
from ocrlab.runtime.line import HEIGHT, WIDTH, line_width, to_line


def test_the_aspect_ratio_is_kept_and_the_rest_is_background() -> None:
    image = np.full((20, 60, 3), 230, np.uint8)
    image[5:15, 10:50] = 10  # a dark bar on light paper
    line = to_line(image)
    assert line.shape == (HEIGHT, WIDTH) and line.dtype == np.uint8
    w = line_width(20, 60)
    assert w == 96  # 60 × 32 / 20: not stretched to the full width
    assert line[:, :w].min() < 50  # the bar is there
    assert (line[:, w:] == 230).all()  # padded with the border's colour, not black


@pytest.mark.parametrize("shape", [(1, 1), (1, 4000, 3), (300, 2, 1), (50, 200, 4), (32, 256, 3)])
def test_any_shape_and_channel_count_gives_one_line(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    assert to_line(image).shape == (HEIGHT, WIDTH)


def test_a_line_wider_than_the_input_is_squeezed_to_it() -> None:
    assert line_width(10, 1000) == WIDTH
    assert line_width(32, 100) == 100


def test_ctc_greedy_merges_repeats_drops_blanks_and_keeps_doubled_letters() -> None:
    # columns: a a _ a b b _ _ ; vocab: 0 = blank, 4 = 'a', 5 = 'b'
    best = [4, 4, 0, 4, 5, 5, 0, 0]
    probs = np.full((1, len(best), 6), 0.01, np.float32)
    for t, k in enumerate(best):
        probs[0, t, k] = 0.5 + 0.05 * t
    (chars,) = ctc_greedy(probs)
    assert [tok for tok, _ in chars] == [4, 4, 5]  # "aab": the blank separates the two a's
    assert chars[0][1] == pytest.approx(0.55) and chars[2][1] == pytest.approx(0.75)
    assert ctc_greedy(np.zeros((2, 3, 6), np.float32)) == [[], []]  # all blank
