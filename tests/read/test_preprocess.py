"""Each preprocessing stage: K-means binarisation, working size, crop/square/box/centre, blur,
and the numbered stage files of `--debug`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocrlab.errors import BlankImageError, ConfigError, ImageError
from ocrlab.runtime.binarise import (
    PreprocessConfig,
    Stages,
    binarise,
    crop_to_ink,
    gaussian_blur,
    kmeans,
    load_rgb,
    naive_28,
    pad_square,
    place,
    to_emnist,
    working_image,
)

Draw = Callable[..., np.ndarray]
CFG = PreprocessConfig()


def _ink_truth(image: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """Pixels more than halfway from the background towards the ink."""
    far = np.abs(image.astype(int) - np.array(background)).sum(-1)
    return far > far.max() / 2


def test_kmeans_is_deterministic_and_finds_both_colours() -> None:
    pixels = np.array([[250, 250, 250]] * 90 + [[10, 60, 20]] * 10, np.float32)
    labels, centres = kmeans(pixels, 2, 20)
    again, _ = kmeans(pixels, 2, 20)
    assert np.array_equal(labels, again)
    assert set(labels[:90]) != set(labels[90:]) and len(set(labels[:90])) == 1
    assert np.allclose(sorted(centres.sum(1)), [90, 750])


@pytest.mark.parametrize(
    ("ink", "background"),
    [((25, 110, 55), (200, 220, 250)), ((242, 242, 232), (40, 48, 62))],
    ids=["dark-on-light", "light-on-dark"],
)
def test_binarise_marks_ink_whatever_the_polarity(
    ink: tuple, background: tuple, draw: Draw
) -> None:
    image = draw("S", ink, background)
    mask = binarise(image, CFG)
    assert mask.dtype == bool and mask.shape == image.shape[:2]
    assert (mask == _ink_truth(image, background)).mean() > 0.98
    assert mask.mean() < 0.5  # background = the larger cluster


def test_three_clusters_keep_a_two_tone_background_out_of_the_ink(draw: Draw) -> None:
    image = draw("H", (20, 20, 120), (235, 235, 235))
    image[:, : image.shape[1] // 2] = np.where(
        image[:, : image.shape[1] // 2] > 200, 190, image[:, : image.shape[1] // 2]
    )  # the left half of the paper is in shadow
    mask = binarise(image, PreprocessConfig(k=3))
    assert (mask == (image.sum(-1) < 300)).mean() > 0.98


def test_a_small_letter_on_stripes_is_found(draw: Draw) -> None:
    image = draw("J", (40, 70, 205), (230, 220, 200), size=30, margin=120)
    image[::6] = (214, 203, 180)  # stripes in the paper, more pixels than the ink
    mask = binarise(image, CFG)
    assert 0 < mask.mean() < 0.05 and not mask[::6].all(axis=1).any()


def test_blank_and_all_ink_images_are_refused() -> None:
    grey = np.full((50, 60, 3), 128, np.uint8)
    for image in (grey, np.zeros_like(grey), grey + np.uint8(5) * (np.arange(60) % 2)[:, None]):
        with pytest.raises(BlankImageError, match="one colour"):
            binarise(image, CFG)
    stripes = np.where((np.arange(100) % 25 < 12)[None, :, None], 0, 255).astype(np.uint8)
    with pytest.raises(ImageError, match="ink covers 48%"):
        binarise(np.broadcast_to(stripes, (40, 100, 3)).copy(), CFG)


def test_working_image_keeps_the_aspect_and_refuses_tiny_images() -> None:
    assert working_image(np.zeros((20, 20, 3), np.uint8), CFG).shape == (300, 300, 3)
    out = working_image(np.zeros((50, 200, 3), np.uint8), CFG)
    assert out.shape == (150, 600, 3)  # the area of 300×300, aspect kept
    assert working_image(np.zeros((2000, 1000, 3), np.uint8), CFG).shape == (424, 212, 3)
    assert working_image(np.zeros((10, 4000, 3), np.uint8), CFG).shape[1] == 8 * 300
    with pytest.raises(ImageError, match="at least 8"):
        working_image(np.zeros((5, 200, 3), np.uint8), CFG)


def test_crop_pad_and_place_keep_every_ink_pixel() -> None:
    mask = np.zeros((40, 30), bool)
    mask[5:25, 10:14] = True
    cropped = crop_to_ink(mask)
    assert cropped.shape == (20, 4) and cropped.all()
    square = pad_square(cropped)
    assert square.shape == (20, 20) and square.sum() == cropped.sum()
    letter = np.zeros((20, 20), np.float32)
    letter[:, :4] = 1.0  # all the mass at the left: pushed right, it stops a pixel from the edge
    framed = place(letter, 28, "mass")
    assert framed.sum() == letter.sum() and framed[:, 7].sum() == 20 and framed[:, 27].sum() == 0
    assert np.array_equal(place(letter, 28, "box")[4:24, 4:24], letter)
    with pytest.raises(BlankImageError):
        crop_to_ink(np.zeros((5, 5), bool))


def test_to_emnist_is_white_on_black_centred_by_mass_in_the_box(draw: Draw) -> None:
    mask = binarise(working_image(draw("T"), CFG), CFG)
    out = to_emnist(mask, CFG)
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255
    assert max(out[0].max(), out[-1].max(), out[:, 0].max(), out[:, -1].max()) < 128
    ys, xs = np.indices(out.shape)
    mass = out.astype(float) / out.sum()
    assert abs((ys * mass).sum() - 13.5) < 1.0 and abs((xs * mass).sum() - 13.5) < 1.0
    rows = np.flatnonzero((out > 127).any(1))
    assert CFG.box - 3 <= rows[-1] - rows[0] + 1 <= CFG.box


def test_blur_keeps_the_mass_and_zero_sigma_is_identity() -> None:
    image = np.zeros((28, 28), np.float32)
    image[10:18, 12:16] = 1.0
    assert np.isclose(gaussian_blur(image, 1.0).sum(), image.sum(), rtol=1e-4)
    assert np.array_equal(gaussian_blur(image, 0.0), image)
    assert gaussian_blur(image, 1.0)[9, 13] > 0


def test_alpha_only_and_palette_images_read_like_plain_ones(tmp_path: Path, draw: Draw) -> None:
    rgb = draw("A", (0, 0, 0), (255, 255, 255))
    rgba = np.zeros((*rgb.shape[:2], 4), np.uint8)
    rgba[..., 3] = 255 - rgb[..., 0]  # black ink drawn in the alpha channel only
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    plain = binarise(working_image(rgb, CFG), CFG)
    for name in ("alpha.png", "palette.png"):
        mask = binarise(working_image(load_rgb(tmp_path / name), CFG), CFG)
        assert (mask == plain).mean() > 0.99, name
    assert np.array_equal(load_rgb(rgba), load_rgb(tmp_path / "alpha.png"))


def test_stages_are_written_numbered_in_order(tmp_path: Path, draw: Draw) -> None:
    stages = Stages()
    to_emnist(binarise(working_image(draw("S"), CFG), CFG, stages), CFG, stages, "s")
    paths = stages.save(tmp_path / "dbg")
    names = [p.name for p in paths]
    assert names == [
        "00-kmeans.png",
        "01-binary.png",
        "02-s-square.png",
        "03-s-box22.png",
        "04-s-blur.png",
    ]
    with Image.open(paths[-1]) as last:
        assert last.size == (28, 28)


def test_naive_resize_is_the_seeds_plain_grayscale(draw: Draw) -> None:
    out = naive_28(draw("S"))
    assert out.shape == (28, 28) and out.mean() > 128  # still dark ink on a light page


def test_config_is_checked() -> None:
    for bad in ({"k": 1}, {"box": 40}, {"max_ink": 1.5}, {"work_size": 8}, {"blur": -1.0}):
        with pytest.raises(ConfigError):
            PreprocessConfig(**bad)  # type: ignore[arg-type]
