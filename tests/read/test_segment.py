"""Segmentation: components, dots joined to their stems, touching letters split, reading order,
spaces, specks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ocrlab.errors import ConfigError
from ocrlab.runtime.binarise import PreprocessConfig, binarise, working_image
from ocrlab.runtime.segment import SegmentConfig, components, segment, segment_lines, spaces

Draw = Callable[..., np.ndarray]


def _mask(image: np.ndarray) -> np.ndarray:
    config = PreprocessConfig()
    return binarise(working_image(image, config), config)


def test_components_are_eight_connected_and_labelled_from_one() -> None:
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one component
    mask[4:6, 4:8] = True
    mask[0, 7] = True
    labels, count = components(mask)
    assert count == 3 and labels[0, 0] == labels[1, 1] != labels[4, 4]
    assert set(np.unique(labels)) == {0, 1, 2, 3} and (labels > 0).sum() == mask.sum()
    assert components(np.zeros((3, 3), bool))[1] == 0


def test_components_of_a_u_shape_join_at_the_bottom() -> None:
    mask = np.zeros((5, 5), bool)
    mask[:, 0] = mask[:, 4] = mask[4, :] = True
    assert components(mask)[1] == 1


def test_dots_of_i_and_j_join_their_stems(draw: Draw) -> None:
    lines = segment(_mask(draw("ij", size=80, tracking=20)))
    assert len(lines) == 1 and len(lines[0]) == 2
    assert all(components(p.mask)[1] == 2 for p in lines[0])  # each holds its dot


def test_touching_letters_are_split_and_a_lone_wide_letter_is_not(draw: Draw) -> None:
    (line,) = segment(_mask(draw("HN", tracking=-14)))  # the letters overlap: one component
    assert components(_mask(draw("HN", tracking=-14)))[1] == 1
    assert len(line) == 2 and line[0].right <= line[1].left + 1
    (alone,) = segment_lines(_mask(draw("W")))
    assert len(alone) == 1


def test_two_lines_read_top_to_bottom_left_to_right(draw: Draw) -> None:
    lines = segment(_mask(draw("AB\nCD", tracking=12)))
    assert [len(line) for line in lines] == [2, 2]
    (a, b), (c, d) = lines
    assert a.left < b.left and c.left < d.left and max(a.bottom, b.bottom) < min(c.top, d.top)


def test_spaces_between_words_and_none_within(draw: Draw) -> None:
    (line,) = segment(_mask(draw("AB CD", tracking=6)))
    assert spaces(line, 0.6) == [False, True, False]
    assert spaces(line, 0.0) == [False, False, False]


def test_specks_are_dropped(draw: Draw) -> None:
    image = draw("E", margin=40)
    image[5:7, 5:7] = image[-8:-6, -8:-6] = (25, 110, 55)  # two specks of ink-coloured dirt
    (line,) = segment(_mask(image))
    assert len(line) == 1


def test_config_is_checked() -> None:
    with pytest.raises(ConfigError):
        SegmentConfig(wide=0.2)
    with pytest.raises(ConfigError):
        SegmentConfig(space=-1.0)
