"""Decoding keeps what an image shows whatever its pixel format."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ocrlab.data.images import decode
from ocrlab.errors import ImageError


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def test_16_bit_and_float_grey_decode_as_their_8_bit_image() -> None:
    grey = np.random.default_rng(0).integers(0, 256, (12, 40), dtype=np.uint8)
    expected = decode(_encoded(Image.fromarray(grey), "PNG"), None, "L")
    sixteen = Image.fromarray(grey.astype(np.uint16) * 257)  # a 16-bit scan of the same picture
    floats = grey.astype(np.float32)
    for image, fmt in (
        (sixteen, "PNG"),
        (sixteen, "TIFF"),
        (Image.fromarray(floats), "TIFF"),  # floats in [0, 255]
        (Image.fromarray(floats / 255), "TIFF"),  # floats in [0, 1]
        (Image.fromarray(grey.astype(np.int32)), "TIFF"),  # 32-bit integers holding 8 bits
    ):
        for mode in ("L", "RGB"):
            got = decode(_encoded(image, fmt), None, mode)
            want = expected if mode == "L" else np.repeat(expected, 3, axis=2)
            assert np.abs(got.astype(int) - want).max() <= 1, (image.mode, fmt, mode)
    colour = np.repeat(grey[..., None], 3, axis=2)
    arrays = (grey.astype(np.uint16) * 257, floats, floats / 255, colour.astype(np.float64) / 255)
    for array in arrays:  # the same pictures as arrays read as their files do
        got = decode(array, None, "L")
        assert np.abs(got.astype(int) - expected).max() <= 1, (array.dtype, array.shape)
    assert decode(grey > 127, None, "L").max() == 255
    for bad in (floats * np.nan, grey.astype(np.int64), grey[None, None]):
        with pytest.raises(ImageError, match="image array"):
            decode(bad)


@pytest.mark.parametrize(
    "empty", [np.zeros((0, 5), np.uint8), np.zeros((4, 0, 3), np.float32), Image.new("RGB", (0, 4))]
)
def test_an_image_without_pixels_is_refused(empty: np.ndarray | Image.Image) -> None:
    with pytest.raises(ImageError, match="no pixels to read"):
        decode(empty, None, "L")
