"""Uploaded bytes → pixels, refusing anything that is not a reasonable image.

The declared Content-Type is never trusted: the format is sniffed from the file's magic bytes, the
header is read to check the pixel count before anything is decoded (a 100-byte PNG can claim
50,000 × 50,000 pixels), and only then is the image decoded by `ocrlab.data.images.open_image`.
Each refusal is an `ApiError` with its own 4xx status. Also encodes arrays as base64 PNG for the
page. Imports NumPy, Pillow, `ocrlab.data` and the API's schemas only.
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
from PIL import Image

from ocrlab.data.images import open_image
from ocrlab.errors import ImageError
from ocrlab.serve.schemas import ApiError, Stage

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"WEBP", 8, "WEBP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
)
FORMATS = tuple(dict.fromkeys(fmt for _, _, fmt in _MAGIC))


def sniff(data: bytes) -> str:
    """The image format named by `data`'s magic bytes; 415 when there is none we accept."""
    for magic, offset, fmt in _MAGIC:
        if data[offset : offset + len(magic)] == magic and (fmt != "WEBP" or data[:4] == b"RIFF"):
            return fmt
    raise ApiError(
        415, "not_an_image", f"the upload is not an image: send {', '.join(FORMATS)} bytes"
    )


def check_size(data: bytes, fmt: str, max_pixels: int) -> None:
    """Read only the header and refuse an image of more than `max_pixels` pixels (413)."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns at 89 MP; ours below is stricter and answers 413.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # corrupt metadata: decoding decides
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                width, height = im.size
    except Image.DecompressionBombError:
        raise ApiError(413, "too_many_pixels", "the image exceeds the pixel limit") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ApiError(400, "bad_image", f"cannot read the {fmt} header: {exc}") from None
    if width * height > max_pixels:
        raise ApiError(
            413,
            "too_many_pixels",
            f"the image is {width}x{height} = {width * height:,} pixels; "
            f"the limit is {max_pixels:,}",
        )


def decode_upload(data: bytes, max_pixels: int) -> Image.Image:
    """Uploaded bytes → an RGB Pillow image, transparency composited on white: the one decode,
    at the edge; the reader's preprocessing takes it from there."""
    if not data:
        raise ApiError(400, "empty", "the image is empty: send its bytes")
    fmt = sniff(data)
    check_size(data, fmt, max_pixels)
    try:
        return open_image(data, "RGB", max_pixels)
    except ImageError as exc:
        raise ApiError(400, "bad_image", str(exc)) from None


def to_image(pixels: np.ndarray | Image.Image) -> Image.Image:
    """A Pillow image, or an (H, W), (H, W, 1) or (H, W, 3) uint8 array as one."""
    if isinstance(pixels, Image.Image):
        return pixels.copy()
    return Image.fromarray(pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels)


def stage(name: str, pixels: np.ndarray | Image.Image, max_side: int = 0) -> Stage:
    """An image as a base64 PNG `Stage`, shrunk to fit `max_side` pixels when given."""
    image = to_image(pixels)
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return Stage(name=name, width=image.width, height=image.height, png=png_base64(image))


def png_base64(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")
