"""Affine and elastic warps: identities, agreement with rotate and np.roll, invariants, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.scratch import MLPClassifier
from ocrlab.scratch.augment import (
    AUGMENT_NAMES,
    affine,
    augmenter,
    elastic_field,
    random_affine,
    rotate,
)
from ocrlab.scratch.init import as_generator

SIDE = 28
IDENTITY = np.eye(2)


def _letters(n: int = 5) -> np.ndarray:
    """Asymmetric strokes plus texture, (n, 784) float32 in [0, 1]."""
    images = 0.3 * as_generator(5).random((n, SIDE, SIDE), dtype=np.float32)
    images[:, 4:24, 8:11] = 1.0
    images[:, 21:24, 8:20] = 0.8
    return images.reshape(n, -1)


def test_identity_map_changes_nothing() -> None:
    images = _letters()
    np.testing.assert_array_equal(affine(images, IDENTITY), images)


def test_rotation_matrix_matches_rotate() -> None:
    images = _letters(2)
    theta = np.radians(30.0)
    cos, sin = np.cos(theta), np.sin(theta)
    warped = affine(images, [[cos, sin], [-sin, cos]])
    np.testing.assert_allclose(warped, rotate(images, 30.0), atol=1e-6)


def test_whole_pixel_shift_moves_the_picture_and_fills_with_zero() -> None:
    images = _letters(3)
    moved = affine(images, IDENTITY, [[2.0, -3.0]] * 3).reshape(-1, SIDE, SIDE)
    expected = np.zeros_like(moved)
    expected[:, :-2, 3:] = images.reshape(-1, SIDE, SIDE)[:, 2:, :-3]  # reads row+2, col-3
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_displacement_field_is_added_to_the_source_coordinates() -> None:
    images = _letters(2)
    field = np.zeros((2, 2, SIDE * SIDE), np.float32)
    field[:, 0] = 2.0
    field[:, 1] = -3.0
    np.testing.assert_allclose(
        affine(images, IDENTITY, displacement=field),
        affine(images, IDENTITY, [2.0, -3.0]),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="displacement"):
        affine(images, IDENTITY, displacement=field[:1])


def test_elastic_field_has_the_asked_spread() -> None:
    field = elastic_field(200, SIDE, 1.5, 4.0, as_generator(0))
    assert field.shape == (200, 2, SIDE * SIDE) and field.dtype == np.float32
    centre = field.reshape(200, 2, SIDE, SIDE)[:, :, 10:18, 10:18]
    assert 1.3 < float(centre.std()) < 1.7
    with pytest.raises(ValueError):
        elastic_field(1, SIDE, 1.0, 0.0, as_generator(0))


@pytest.mark.parametrize("elastic", [0.0, 1.0])
def test_random_affine_is_in_place_seeded_and_in_range(elastic: float) -> None:
    images = _letters(40)
    first = random_affine(images.copy(), as_generator(3), elastic=elastic)
    again = random_affine(images.copy(), as_generator(3), elastic=elastic)
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.float32 and first.min() >= 0.0 and first.max() <= 1.0
    assert not np.array_equal(first, images)
    # Small warps keep a centred letter in the frame, so on average its ink is conserved.
    clean = np.zeros_like(images)
    clean.reshape(-1, SIDE, SIDE)[:, 8:20, 10:18] = 1.0
    warped = random_affine(clean.copy(), as_generator(3), elastic=elastic)
    assert abs(warped.sum() / clean.sum() - 1.0) < 0.05
    batch = images.copy()
    assert random_affine(batch, as_generator(3), elastic=elastic) is batch


def test_zero_strength_random_affine_is_the_identity() -> None:
    images = _letters()
    out = random_affine(images.copy(), as_generator(1), degrees=0, scale=0, shear=0, shift=0)
    np.testing.assert_allclose(out, images, atol=1e-6)
    with pytest.raises(ValueError):
        random_affine(images, as_generator(1), shift=-1.0)


@pytest.mark.parametrize("name", AUGMENT_NAMES)
def test_every_augmenter_name_fits_an_mlp(name: str) -> None:
    images = np.repeat(_letters(2), 20, axis=0)
    labels = np.repeat([0, 1], 20)
    clf = MLPClassifier(hidden=(8,), epochs=2, augment=name, early_stopping=False)
    clf.fit(images, labels)
    assert len(clf.history_) == 2
    batch = images[:4].copy()
    assert augmenter(name, as_generator(0))(batch).shape == (4, SIDE * SIDE)


def test_unknown_augmentation_is_refused() -> None:
    with pytest.raises(ValueError, match="augment"):
        MLPClassifier(augment="mixup").fit(_letters(4), [0, 1, 0, 1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown augmentation"):
        augmenter("mixup", as_generator(0))  # type: ignore[arg-type]
