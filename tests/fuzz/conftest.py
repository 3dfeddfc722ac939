"""The nasty files the fuzz tests start from, made at test time with Pillow (no golden files).

`nasty` is a folder of one file per trap: a decompression bomb's header, a zero-byte file, a
one-pixel header, palette and alpha images, 16-bit and 32-bit float grey, a CMYK JPEG, an
animated GIF, a multi-page TIFF, extreme aspect ratios; `seeds` are small valid images of every
format the server accepts, for truncations and bit flips.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: a decompression bomb's first bytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def text_image(size: tuple[int, int] = (96, 40)) -> Image.Image:
    """Dark strokes on a light ground: something a reader can segment."""
    rgb = np.full((size[1], size[0], 3), 235, np.uint8)
    rgb[size[1] // 4 : -size[1] // 4, size[0] // 5 : size[0] // 5 + 4] = (20, 30, 120)
    rgb[size[1] // 4 : -size[1] // 4, size[0] // 2 : size[0] // 2 + 4] = (20, 30, 120)
    return Image.fromarray(rgb)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


# Files every reader must either read or refuse with one sentence; True: it must read them.
NASTY_READABLE = {
    "palette-alpha.png": True,
    "grey-alpha.png": True,
    "rgba.png": True,
    "grey16.png": True,
    "float32.tiff": True,
    "bilevel.png": True,
    "cmyk.jpg": True,
    "animated.gif": True,
    "pages.tiff": True,
    "progressive.jpg": True,
    "wide-1x3000.png": True,
    "one-pixel.png": True,
    "bomb-20000x20000.png": False,
    "empty.png": False,
    "header-only.png": False,
    "truncated.png": False,
    "text.png": False,
}


@pytest.fixture(scope="session")
def readable() -> dict[str, bool]:
    """Each nasty file's name → whether a reader that resizes anything must read it."""
    return NASTY_READABLE


@pytest.fixture(scope="session")
def nasty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nasty")
    base = text_image()
    grey = np.asarray(base.convert("L"))
    palette = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    palette.info["transparency"] = 0
    files = {
        "palette-alpha.png": encode(palette, "PNG", transparency=0),
        "grey-alpha.png": encode(base.convert("LA"), "PNG"),
        "rgba.png": encode(base.convert("RGBA"), "PNG"),
        "grey16.png": encode(
            Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257), "PNG"
        ),
        "float32.tiff": encode(Image.fromarray(grey.astype(np.float32)), "TIFF"),
        "bilevel.png": encode(base.convert("1"), "PNG"),
        "cmyk.jpg": encode(base.convert("CMYK"), "JPEG"),
        "animated.gif": encode(
            base.convert("P"), "GIF", save_all=True, append_images=[base.convert("P")] * 2
        ),
        "pages.tiff": encode(base, "TIFF", save_all=True, append_images=[base.convert("L")]),
        "progressive.jpg": encode(base, "JPEG", progressive=True, quality=70),
        "wide-1x3000.png": encode(base.resize((3000, 1)), "PNG"),
        "one-pixel.png": encode(base.resize((1, 1)), "PNG"),
        "bomb-20000x20000.png": png_header(20000, 20000),
        "empty.png": b"",
        "header-only.png": png_header(1, 1)[:33],
        "truncated.png": encode(base, "PNG")[:60],
        "text.png": b"not an image at all\n",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


@pytest.fixture(scope="session")
def seeds() -> dict[str, bytes]:
    """Small valid images of every format the server sniffs."""
    base = text_image((40, 16))
    return {fmt: encode(base, fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")}
