"""Rotation augmentation: identity at 0°, agreement with np.rot90, invariants, randomness."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.scratch.augment import random_rotate, rotate
from ocrlab.scratch.init import as_generator

SIDE = 28


def _letters(n: int = 6) -> np.ndarray:
    """Asymmetric 'L'-like strokes plus texture, (n, 784) float32 in [0, 1]."""
    rng = as_generator(11)
    images = 0.3 * rng.random((n, SIDE, SIDE), dtype=np.float32)
    images[:, 4:24, 8:11] = 1.0
    images[:, 21:24, 8:20] = 0.8
    return images.reshape(n, -1)


def test_zero_angle_is_identity() -> None:
    images = _letters()
    np.testing.assert_array_equal(rotate(images, 0.0), images)


@pytest.mark.parametrize(("degrees", "k"), [(90.0, 1), (-90.0, -1), (180.0, 2), (270.0, 3)])
def test_right_angles_match_rot90(degrees: float, k: int) -> None:
    images = _letters(3)
    turned = rotate(images, degrees).reshape(-1, SIDE, SIDE)
    expected = np.rot90(images.reshape(-1, SIDE, SIDE), k=k, axes=(1, 2))
    np.testing.assert_allclose(turned, expected, atol=1e-5)


def test_per_image_angles() -> None:
    images = _letters(2)
    both = rotate(images, [0.0, 90.0])
    np.testing.assert_array_equal(both[0], images[0])
    np.testing.assert_allclose(both[1], rotate(images[1:], 90.0)[0], atol=1e-6)


def test_small_rotation_keeps_shape_dtype_range_and_mass() -> None:
    images = np.zeros((4, SIDE * SIDE), np.float32)
    images.reshape(-1, SIDE, SIDE)[:, 9:19, 9:19] = 1.0
    turned = rotate(images, [12.0, -12.0, 15.0, -10.0])
    assert turned.shape == images.shape and turned.dtype == np.float32
    assert turned.min() >= 0.0 and turned.max() <= 1.0
    np.testing.assert_allclose(turned.sum(axis=1), images.sum(axis=1), rtol=0.02)
    assert not np.array_equal(turned, images)


def test_content_leaving_the_frame_is_dropped_not_wrapped() -> None:
    images = np.zeros((1, SIDE * SIDE), np.float32)
    images.reshape(SIDE, SIDE)[0, 0] = 1.0  # a corner pixel rotates out of the frame
    assert rotate(images, 45.0).max() == 0.0


def test_random_rotate_in_place_half_the_images() -> None:
    images = np.repeat(_letters(1), 400, axis=0)
    original = images.copy()
    out = random_rotate(images, as_generator(0))
    assert out is images and out.dtype == np.float32
    changed = np.any(images != original, axis=1)
    assert 150 < changed.sum() < 250
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_random_rotate_angles_within_bounds() -> None:
    images = np.repeat(_letters(1), 60, axis=0)
    random_rotate(images, as_generator(2), p=1.0)
    candidates = np.arange(-15.0, 15.01, 0.25)
    bank = rotate(np.repeat(_letters(1), candidates.size, axis=0), candidates)
    errors = np.abs(images[:, None, :] - bank[None, :, :]).sum(axis=2)
    nearest = np.abs(candidates[errors.argmin(axis=1)])
    assert nearest.min() >= 9.75 and nearest.max() <= 15.0


def test_random_rotate_is_deterministic_and_respects_p() -> None:
    a, b = _letters(), _letters()
    random_rotate(a, as_generator(5))
    random_rotate(b, as_generator(5))
    np.testing.assert_array_equal(a, b)
    untouched = _letters()
    random_rotate(untouched, as_generator(5), p=0.0)
    np.testing.assert_array_equal(untouched, _letters())


@pytest.mark.parametrize("shape", [(2, 783), (784,)])
def test_rejects_non_square_images(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="square"):
        rotate(np.zeros(shape, np.float32), 10.0)


def test_rejects_bad_probability() -> None:
    with pytest.raises(ValueError):
        random_rotate(_letters(), as_generator(0), p=1.5)
