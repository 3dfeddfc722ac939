"""The general reader's line preprocessing and its CTC decoding."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.runtime.ctc import ctc_greedy
from ocrlab.runtime.line import (
    BUCKET,
    HEIGHT,
    WIDTH,
    line_width,
    read_in_buckets,
    text_widths,
    to_line,
    width_buckets,
)


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


def test_a_long_line_keeps_its_shape_and_a_wider_one_is_squeezed() -> None:
    assert line_width(32, 100) == 100
    assert line_width(32, 700) == 700  # some 40 characters: not squeezed into 256 columns
    assert line_width(10, 1000) == WIDTH


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


def _lines(widths: list[int]) -> np.ndarray:
    """(N, HEIGHT, WIDTH, 1) lines with noisy text `widths` columns wide on flat paper."""
    rng = np.random.default_rng(1)
    lines = np.full((len(widths), HEIGHT, WIDTH, 1), 200, np.uint8)
    for line, w in zip(lines, widths, strict=True):
        line[:, :w, 0] = rng.integers(0, 256, (HEIGHT, w))
    return lines


def test_text_width_is_where_the_flat_padding_begins() -> None:
    lines = _lines([1, 40, 200, WIDTH])
    lines[0, :, 0] = 200  # a line that is all paper
    assert text_widths(lines).tolist() == [1, 40, 200, WIDTH]


def test_each_line_is_read_in_its_own_bucket_whatever_its_batch() -> None:
    lines = _lines([40, 100, 250, 45, 110, 60, 10, WIDTH - 8])
    groups = width_buckets(lines, batch_size=2)
    seen = sorted(i for rows, _ in groups for i in rows.tolist())
    assert seen == list(range(len(lines)))  # every line once
    assert all(len(rows) <= 2 and cols % BUCKET == 0 for rows, cols in groups)
    cols = {i: c for rows, c in groups for i in rows.tolist()}
    # text + MARGIN, rounded up, at most the whole line
    assert cols == {0: 64, 1: 128, 2: 288, 3: 64, 4: 128, 5: 96, 6: 32, 7: WIDTH}
    alone = {i: width_buckets(lines[i : i + 1], 64)[0][1] for i in range(len(lines))}
    assert alone == cols  # the company a line keeps never changes its width


def test_results_of_the_buckets_come_back_in_the_lines_order() -> None:
    lines = _lines([200, 10, 100, 40, WIDTH])
    calls: list[int] = []

    def read(cut: np.ndarray) -> list[tuple[int, int]]:
        calls.append(len(cut))
        return [(cut.shape[2], int(text_widths(cut[i : i + 1])[0])) for i in range(len(cut))]

    got = read_in_buckets(lines, read, batch_size=1)
    assert [width for _, width in got] == [200, 10, 100, 40, WIDTH]  # each line's own result
    assert [cols for cols, _ in got] == [224, 32, 128, 64, WIDTH]
    assert calls == [1] * 5 and read_in_buckets(lines[:0], read) == []


def test_text_widths_are_the_same_in_chunks() -> None:
    lines = _lines([1, 40, 200, WIDTH, 7, 300, 90])
    assert text_widths(lines, chunk=2).tolist() == text_widths(lines).tolist()
    assert text_widths(lines[:0]).tolist() == []
