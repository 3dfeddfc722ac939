"""The general reader's one preprocessing: grey, the text line's shape kept, one fixed size.

Every path (training on the zoo, `ocrlab read`, the ONNX reader, the server) turns an image into
the model's input through `to_line`, so one image gives one tensor everywhere. The image is
converted to grey (ITU-R 601-2 luma), resized to `HEIGHT` rows keeping its aspect ratio (a width
that would exceed `WIDTH` is squeezed to it), and padded on the right with the median of its
border, the likeliest background colour. Stretching every image to one box, as the "Breaking
CAPTCHA" readers did, turns a 3-letter crop and a 12-letter CAPTCHA into different fonts.
Imports NumPy and Pillow only.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

HEIGHT, WIDTH = 32, 256


def line_width(height: int, width: int, out_height: int = HEIGHT, out_width: int = WIDTH) -> int:
    """Columns the image's ink occupies after resizing to `out_height` rows, aspect kept."""
    return max(1, min(out_width, round(width * out_height / max(height, 1))))


def to_line(image: np.ndarray, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 → (height, width) uint8."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    im = Image.fromarray(image)
    if im.mode != "L":
        im = im.convert("L")
    w = line_width(im.height, im.width, height, width)
    if (im.height, im.width) != (height, w):
        im = im.resize((w, height), Image.Resampling.BILINEAR)
    grey = np.asarray(im, dtype=np.uint8)
    out = np.empty((height, width), np.uint8)
    out[:, :w] = grey
    if w < width:
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        out[:, w:] = np.uint8(np.median(border))
    return out
