"""ocrlab: make text-image data, train recognisers for it, and read CAPTCHAs and letters.

The public API, in one import::

    import ocrlab
    ocrlab.read("x.png")                       # → Reading(text, confidence, chars, topk, ...)
    ocrlab.read_many(["a.png", "b.png"])        # in batches
    ocrlab.read("x.png", charset="alnum-lower", length=5)   # told what the text may be
    reader = ocrlab.load("captcha")             # a shipped name, run folder, .npz or .onnx
    ocrlab.models()                             # {name: one line} of the shipped models
    ocrlab.render("hello", style="hard")        # a Pillow image of one CAPTCHA
    ocrlab.generate("data/easy", "easy", words=50)   # a whole dataset

Importing ocrlab is cheap: each function imports what it needs (torch, Pillow) when called.
Readers decode greedily; `top_k` > 1 asks sequence models for alternatives by beam search.

Two names are both functions here and subpackages (`ocrlab.read`, `ocrlab.models`): the
package keeps the function bound when the subpackage is imported (`_Package` below), so
`ocrlab.read(...)` always reads; import the subpackages with `from ocrlab.read import ...`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from ocrlab.errors import UserError

if TYPE_CHECKING:
    from PIL import Image

    from ocrlab.data.images import ImageLike
    from ocrlab.read.auto import Reader
    from ocrlab.read.reading import Reading

__version__ = "0.1.0"

__all__ = [
    "UserError",
    "__version__",
    "generate",
    "load",
    "models",
    "read",
    "read_many",
    "render",
]

_readers: dict[tuple[str, str], Reader] = {}


def load(name_or_path: str | Path = "default", device: str = "auto") -> Reader:
    """A reader with `read(images, top_k=1) -> list[Reading]`: a shipped name (`models()`), a
    run folder, an MLP `model.npz` or an exported `.onnx` file."""
    from ocrlab.read.resolve import load as resolve

    return resolve(name_or_path, device)


def _cached(
    model: str | Path | Reader,
    device: str,
    lines: bool = False,
    charset: str | None = None,
    length: int | str | tuple[int, int] | None = None,
    thorough: bool = False,
    colour: bool = True,
) -> Reader:
    """`read` and `read_many` load a named model once per process, not once per call; a hint
    (`charset`, `length`: `ocrlab.read.hint`) makes a line model decode only what it allows,
    `thorough` makes it read several views of each line, `colour` False keeps it from looking
    again in colour, and `lines` reads an image line by line (`ocrlab.read.lines.LinesReader`)."""
    from ocrlab.read.hint import Hint, hinted

    if isinstance(model, str | Path):
        key = (str(model), device)
        if key not in _readers:
            _readers[key] = load(model, device)
        reader = _readers[key]
    else:
        reader = model
    reader = hinted(reader, Hint.parse(charset, length, thorough, colour))
    if not lines:
        return reader
    from ocrlab.read.lines import by_lines

    return by_lines(reader)


def read(
    image: ImageLike,
    model: str | Path | Reader = "default",
    top_k: int = 1,
    device: str = "auto",
    lines: bool = False,
    charset: str | None = None,
    length: int | str | tuple[int, int] | None = None,
    thorough: bool = False,
    colour: bool = True,
) -> Reading:
    """Read the text in one image: a path, `str`, encoded bytes, a Pillow image or an
    array (uint8; uint16, floats and booleans are scaled to 8 bits). Greedy decoding; `top_k`
    > 1 adds alternatives (beam search: the likeliest other texts).
    `lines=True` cuts an image of several lines into lines and joins their readings with "\n".
    `charset` (a name such as 'digits', 'alnum-lower', 'digits+upper', or the characters) and
    `length` (5, '4-6' or (4, 6)) tell a line model what the text may be, for each line.
    `thorough=True` has a line model read each line it is unsure of in seven views and keep the
    reading they agree on: a few points more on most CAPTCHAs for up to seven times the time
    (docs/general.md). `colour=False` reads grey only: the general reader then does not read the
    unsure lines of a colour image again in a grey that keeps their colour contrast, faster and
    blind to text as bright as its paper (docs/general.md, "Colour")."""
    reader = _cached(model, device, lines, charset, length, thorough, colour)
    return reader.read([image], top_k)[0]


@overload
def read_many(
    images: Iterable[ImageLike] | str | Path | bytes,
    model: str | Path | Reader = "default",
    top_k: int = 1,
    batch_size: int = 64,
    device: str = "auto",
    lines: bool = False,
    charset: str | None = None,
    length: int | str | tuple[int, int] | None = None,
    thorough: bool = False,
    colour: bool = True,
    *,
    return_errors: Literal[False] = False,
) -> list[Reading]: ...


@overload
def read_many(
    images: Iterable[ImageLike] | str | Path | bytes,
    model: str | Path | Reader = "default",
    top_k: int = 1,
    batch_size: int = 64,
    device: str = "auto",
    lines: bool = False,
    charset: str | None = None,
    length: int | str | tuple[int, int] | None = None,
    thorough: bool = False,
    colour: bool = True,
    *,
    return_errors: Literal[True],
) -> list[Reading | UserError]: ...


def read_many(
    images: Iterable[ImageLike] | str | Path | bytes,
    model: str | Path | Reader = "default",
    top_k: int = 1,
    batch_size: int = 64,
    device: str = "auto",
    lines: bool = False,
    charset: str | None = None,
    length: int | str | tuple[int, int] | None = None,
    thorough: bool = False,
    colour: bool = True,
    *,
    return_errors: bool = False,
) -> list[Reading] | list[Reading | UserError]:
    """Read many images, `batch_size` at a time; one Reading per image, in order (the options
    as for `read`). `images` may also name them with one path (`str` or `Path`), as `ocrlab
    read` takes it: a folder (nested folders too), a dataset folder or manifest, or one image;
    they are read in the order `ocrlab.data.sources.list_images` lists them, so
    `zip(list_images(src), read_many(src))` pairs each path with its reading. One encoded image
    (`bytes`) reads as one.

    An image that cannot be read (corrupt, too large, not an image) raises its `UserError`;
    with `return_errors=True` that error takes the image's place in the list instead and every
    other image is still read, as `ocrlab read` does (anything but a `UserError` is a bug, and
    still raises)."""
    if isinstance(images, str | Path):  # a str is iterable: never read its characters as images
        from ocrlab.data.sources import list_images

        images = list_images(images)
    elif isinstance(images, bytes | bytearray):  # one encoded image, not a sequence of ints
        images = [bytes(images)]
    from ocrlab.read.batch import read_or_refuse

    reader = _cached(model, device, lines, charset, length, thorough, colour)

    def read_batch(batch: list[ImageLike]) -> list[Any]:
        if return_errors:
            return list(read_or_refuse(lambda part: reader.read(part, top_k), batch))
        return reader.read(batch, top_k)

    out: list[Any] = []
    batch: list[ImageLike] = []
    for image in images:
        batch.append(image)
        if len(batch) == batch_size:
            out += read_batch(batch)
            batch = []
    return out + (read_batch(batch) if batch else [])


def models() -> dict[str, str]:
    """The shipped model names `load` and `read` take, with one line each."""
    from ocrlab.runtime.shipped import shipped_names

    return shipped_names()


def render(text: str, style: str = "easy", seed: int = 0) -> Image.Image:
    """One CAPTCHA of `text` as a Pillow image (like the `captcha` library's `generate`), in a
    named style of `ocrlab.synth.styles.STYLES` ("easy", "hard"); same seed, same pixels."""
    from ocrlab.synth.styles import render_text

    return render_text(text, style, seed)


def generate(
    out: str | Path,
    preset: str = "easy",
    *,
    workers: int = 1,
    overwrite: bool = False,
    **overrides: Any,
) -> Path:
    """Write a dataset to `out`: a preset ("easy", "hard") with any `GenerateConfig` field
    overridden (`words=50, seed=3, format="packed"`, checked); returns `out`. Same bytes for any
    number of workers."""
    from ocrlab.config import replace
    from ocrlab.errors import ConfigError
    from ocrlab.synth.generate import generate as write
    from ocrlab.synth.plan import PRESETS

    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    config = replace(PRESETS[preset], overrides)
    return write(config, Path(out), workers=workers, overwrite=overwrite)


class _Package(types.ModuleType):
    """Keeps `read` and `models` the functions above when their subpackages are imported."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("read", "models") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
