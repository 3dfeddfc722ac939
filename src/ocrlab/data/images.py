"""Decode images safely, in parallel and in order, into one bounded uint8 array.

The loader of "Breaking CAPTCHA" scrambled images against labels (`executor.submit` returns in
completion order) and crashed beyond 60,000 images. Here decoding goes through `Pool.imap`, which
yields results in input order, straight into a preallocated (N, H, W, C) uint8 array: the whole set
costs exactly its packed size, and image *i* is always row *i*. Decoding is bounded too: a pixel
limit stops decompression bombs, and a truncated or corrupt file raises `ImageError` naming it.
`decode` is also the one preprocessing of the classifier and sequence models (see
`ocrlab.runtime.preprocess`): training loads through it and every reader calls it, so one image
gives one array whether it arrives as a file, bytes, a Pillow image or an array. NumPy and Pillow
only.
"""

from __future__ import annotations

import io
import multiprocessing
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ocrlab.errors import ImageError

ImageLike = str | Path | bytes | np.ndarray | Image.Image
"""What readers accept: a path, encoded bytes, a Pillow image or an (H, W[, 1|3|4]) array (uint8,
or uint16, floats or booleans, scaled to 8 bits)."""

MAX_PIXELS = 100_000_000
"""Largest image accepted (10,000 × 10,000; a 48-megapixel phone photo is well within it), checked
from the header before decoding: beyond it a file is a decompression bomb, or a photo to crop."""


def open_image(source: ImageLike, mode: str = "RGB", max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Any `ImageLike` → a fully decoded Pillow image of `mode`, transparency composited on
    white (a letter drawn only in the alpha channel still shows); any failure is an ImageError."""
    if isinstance(source, np.ndarray):
        return _flatten(_from_array(source, max_pixels), mode)
    if isinstance(source, Image.Image):
        _check_pixels("the image", source.width, source.height, max_pixels)
        return _flatten(source, mode)
    source = Path(source) if isinstance(source, str) else source
    name = str(source) if isinstance(source, Path) else "the image"
    if isinstance(source, Path) and source.is_dir():
        raise ImageError(
            f"{name} is a folder, not an image: ocrlab.read_many({str(source)!r}) or `ocrlab "
            "read FOLDER` reads its images"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. a TIFF tag of the wrong length
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # ours names the size
            fp = io.BytesIO(source) if isinstance(source, bytes) else source
            with Image.open(fp) as im:
                _check_pixels(name, im.width, im.height, max_pixels)
                im.load()
                return _flatten(im, mode)
    except Image.DecompressionBombError:  # over twice Pillow's own limit: it gives no size
        raise ImageError(f"{name} is over the limit of {max_pixels:,} pixels") from None
    except FileNotFoundError:
        raise ImageError(f"image not found: {name}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"cannot decode {name}: {exc}") from None


def _check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    if width == 0 or height == 0:
        raise ImageError(f"{name} is {width}x{height}: it has no pixels to read")
    if width * height > max_pixels:
        raise ImageError(f"{name} is {width}x{height}; the limit is {max_pixels:,} pixels")


def _from_array(source: np.ndarray, max_pixels: int) -> Image.Image:
    """An (H, W[, 1|3|4]) array as an 8-bit image: uint8 as it is; uint16 (a 16-bit scan),
    floats (in [0, 1], or [0, 255] when any value is above 1) and booleans scaled to 8 bits, as
    the same image decoded from a file would be (`_flatten`)."""
    arr = source[..., 0] if source.ndim == 3 and source.shape[2] == 1 else source
    kinds = arr.dtype in (np.uint8, np.uint16, np.bool_) or arr.dtype.kind == "f"
    if not kinds or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageError(
            "an image array must be (H, W[, 1|3|4]) of uint8, uint16, floats or booleans, got "
            f"{source.dtype} {source.shape}"
        )
    _check_pixels("the image", arr.shape[1], arr.shape[0], max_pixels)
    if arr.dtype == np.uint16:  # integers, rounded: no float copy of a 100-megapixel scan
        arr = ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ImageError("an image array of floats must be finite (no NaN or infinity)")
        top = np.float32(255 if arr.max(initial=0) <= 1 else 1)
        arr = np.clip(np.rint(arr.astype(np.float32) * top), 0, 255).astype(np.uint8)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * np.uint8(255)
    return Image.fromarray(np.ascontiguousarray(arr))


def _flatten(im: Image.Image, mode: str) -> Image.Image:
    """Convert to `mode`, compositing any transparency onto white rather than black, and a grey
    image of 16 bits (Pillow's I;16, or I holding values above 255) or floats (F, in [0, 1] or
    [0, 255]) scaled to 8 bits: Pillow's own conversion clips every value above 255, which turns
    a 16-bit scan white."""
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        grey = np.asarray(im, dtype=np.float64)
        most = grey.max(initial=0)
        if im.mode == "F":
            top = 1.0 if most <= 1 else 255.0
        else:
            top = 65535.0 if im.mode.startswith("I;16") or most > 255 else 255.0
        im = Image.fromarray(np.clip(grey * (255 / top) + 0.5, 0, 255).astype(np.uint8))
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert(mode)
    return im.convert(mode)


def decode(source: ImageLike, size: tuple[int, int] | None = None, mode: str = "RGB") -> np.ndarray:
    """One image as an (H, W, C) uint8 array: converted to `mode` first, then resized
    (bilinear) to `size` (H, W) when given; the order is fixed so grey images match everywhere."""
    im = open_image(source, mode)
    if size is not None and (im.height, im.width) != size:
        im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    arr = np.asarray(im, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


Prepare = Callable[[ImageLike, "tuple[int, int] | None", str], np.ndarray]
"""A model kind's preprocessing, `decode`'s signature: (image, size, mode) → (H, W, C) uint8."""


def _decode_job(job: tuple[Prepare, Path, tuple[int, int] | None, str]) -> np.ndarray:
    prepare, path, size, mode = job
    return prepare(path, size, mode)


def unreadable(path: Path, exc: ImageError) -> str:
    """Why `path` does not decode, naming it (a preparation's own error, say a blank letter
    image, may not)."""
    why = str(exc)
    return why if str(path) in why else f"{path}: {why}"


def _try_job(job: tuple[Prepare, Path, tuple[int, int] | None, str]) -> np.ndarray | str:
    """`_decode_job`, or why the image does not decode (`unreadable`)."""
    try:
        return _decode_job(job)
    except ImageError as exc:
        return unreadable(job[1], exc)


@contextmanager
def _in_order(fn: Callable[[Any], Any], jobs: list[Any], workers: int) -> Iterator[Iterator[Any]]:
    """`fn` of each job, in order, in `workers` processes when more than one; the processes end
    with the block, also when it raises."""
    pool = multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else None
    try:
        yield pool.imap(fn, jobs, chunksize=64) if pool else map(fn, jobs)
    finally:
        if pool is not None:
            pool.terminate()


def _same_shape(arr: np.ndarray, first: np.ndarray, path: Path, first_path: Path) -> None:
    if arr.shape != first.shape:
        raise ImageError(
            f"{path} is {arr.shape[1]}x{arr.shape[0]} but {first_path} is "
            f"{first.shape[1]}x{first.shape[0]}; pass a size to resize them all"
        )


def decode_all(
    paths: Sequence[Path],
    size: tuple[int, int] | None = None,
    mode: str = "RGB",
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    out: np.ndarray | None = None,
    prepare: Prepare = decode,
) -> np.ndarray:
    """Decode `paths` in order through `prepare` into one (N, H, W, C) uint8 array: `out` when
    given (a slice of a larger set, so nothing is copied later), else a new one.

    Without `size`, every image must have the first image's size; a mismatch names the file.
    """
    if not paths:
        raise ImageError("no images to decode")
    first = prepare(paths[0], size, mode)
    if out is None:
        out = np.empty((len(paths), *first.shape), dtype=np.uint8)
    elif out.shape != (len(paths), *first.shape) or out.dtype != np.uint8:
        raise ValueError(f"out is {out.dtype} {out.shape}, need uint8 {(len(paths), *first.shape)}")
    jobs = [(prepare, p, size, mode) for p in paths]
    with _in_order(_decode_job, jobs, workers) as results:
        for i, arr in enumerate(results):
            _same_shape(arr, first, paths[i], paths[0])
            out[i] = arr
            if progress is not None:
                progress(1)
    return out


def decode_readable(
    paths: Sequence[Path], mode: str = "RGB", workers: int = 1, prepare: Prepare = decode
) -> tuple[np.ndarray, dict[int, str]]:
    """The images of `paths` that decode, through `prepare`, in order, and why each of the others
    does not, by index: one pass, where checking each first would decode every image twice."""
    jobs = [(prepare, p, None, mode) for p in paths]
    out: np.ndarray | None = None
    kept, bad = 0, {}
    with _in_order(_try_job, jobs, workers) as results:
        for i, arr in enumerate(results):
            if isinstance(arr, str):
                bad[i] = arr
                continue
            if out is None:
                out, first, first_path = np.empty((len(paths), *arr.shape), np.uint8), arr, paths[i]
            _same_shape(arr, first, paths[i], first_path)
            out[kept] = arr
            kept += 1
    if out is None:
        return np.empty((0, 0, 0, 0), np.uint8), bad
    return out[:kept], bad
