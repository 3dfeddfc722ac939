"""Fuzzed images: random bytes, truncations, bit flips, extreme sizes, modes and dtypes. Decoding,
the server's upload check, the letter pipeline and the Predictor's preprocessing either succeed
or raise the project's one-sentence error (`UserError`, or the API's 4xx); never anything else."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ocrlab.data.emnist import LETTERS
from ocrlab.data.images import open_image
from ocrlab.errors import UserError
from ocrlab.models import build
from ocrlab.read.letters import LetterReader
from ocrlab.read.predictor import Predictor
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.serve.schemas import ApiError
from ocrlab.serve.upload import decode_upload

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")


class Uniform:
    """A letter model that knows nothing: every class equally likely."""

    classes: ClassVar[list[str]] = list(LETTERS)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        return np.full((len(batch), len(self.classes)), 1 / len(self.classes), np.float32)


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    """An untrained width-4 classifier at 16 x 48: the word models' preprocessing path."""
    torch.manual_seed(0)
    config = {"num_classes": 3, "in_channels": 3, "width": 4, "dropout": 0.0}
    ckpt = Checkpoint("classifier", "resnet18", config, (16, 48), 3, classes=["a", "b", "c"])
    return Predictor(build("resnet18", **config), ckpt, torch.device("cpu"))


def refused_or_read(step: Callable[[], Any]) -> Any:
    """Run `step`; a UserError or a 4xx ApiError is a refusal (None), anything else escapes."""
    try:
        return step()
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)
    except ApiError as exc:
        assert 400 <= exc.status < 500 and exc.detail, (exc.status, exc.detail)
    return None


def check_bytes(data: bytes, predictor: Predictor) -> None:
    """Every door an uploaded or listed file goes through."""
    refused_or_read(lambda: open_image(data, "RGB"))
    refused_or_read(lambda: open_image(data, "L", max_pixels=100_000))
    image = refused_or_read(lambda: decode_upload(data, 1_000_000))
    if image is not None:
        assert image.mode == "RGB"
        pixels = np.asarray(image)
        refused_or_read(lambda: LetterReader(Uniform()).read_one(pixels, top_k=2))
    batch = refused_or_read(lambda: predictor.preprocess([data]))
    if batch is not None:
        assert batch.shape == (1, 16, 48, 3) and batch.dtype == np.uint8


@given(st.binary(max_size=4096))
def test_random_bytes(predictor: Predictor, data: bytes) -> None:
    check_bytes(data, predictor)


@given(st.sampled_from(FORMATS), st.data())
def test_truncated_images(
    predictor: Predictor, seeds: dict[str, bytes], fmt: str, draw: st.DataObject
) -> None:
    whole = seeds[fmt]
    check_bytes(whole[: draw.draw(st.integers(0, len(whole) - 1), label="cut")], predictor)


@given(st.sampled_from(FORMATS), st.data())
def test_bit_flipped_images(
    predictor: Predictor, seeds: dict[str, bytes], fmt: str, draw: st.DataObject
) -> None:
    data = bytearray(seeds[fmt])
    flips = draw.draw(
        st.lists(
            st.tuples(st.integers(0, len(data) - 1), st.integers(0, 7)), min_size=1, max_size=8
        )
    )
    for position, bit in flips:
        data[position] ^= 1 << bit
    check_bytes(bytes(data), predictor)


MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I", "I;16", "F", "YCbCr", "HSV")


@given(
    mode=st.sampled_from(MODES),
    fmt=st.sampled_from(("PNG", "TIFF", "WEBP", "BMP", "GIF")),
    width=st.one_of(st.integers(1, 8), st.integers(9, 600), st.just(3000)),
    height=st.one_of(st.integers(1, 8), st.integers(9, 200)),
    seed=st.integers(0, 2**16),
)
def test_extreme_sizes_and_modes(
    predictor: Predictor, mode: str, fmt: str, width: int, height: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    noise = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    image = noise.convert(mode) if mode not in ("I;16", "F", "I") else noise.convert("L")
    if mode in ("I;16", "F", "I"):
        dtype = {"I;16": np.uint16, "F": np.float32, "I": np.int32}[mode]
        image = Image.fromarray(np.asarray(image).astype(dtype) * 3)
    buf = io.BytesIO()
    try:
        image.save(buf, fmt)
    except (OSError, ValueError, KeyError):
        return  # a mode this format cannot store: nothing to read
    check_bytes(buf.getvalue(), predictor)


ARRAYS = st.sampled_from((np.uint8, np.uint16, np.int64, np.float32, np.float64, np.bool_))


@given(
    dtype=ARRAYS,
    shape=st.one_of(
        st.tuples(st.integers(0, 64), st.integers(0, 64)),
        st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from((1, 2, 3, 4, 5))),
        st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    ),
    seed=st.integers(0, 2**16),
)
def test_arrays_of_any_shape_and_dtype(
    predictor: Predictor, dtype: Any, shape: tuple[int, ...], seed: int
) -> None:
    values = np.random.default_rng(seed).normal(0, 300, shape)
    array = values.astype(dtype) if dtype is not np.bool_ else values > 0
    reading = refused_or_read(lambda: LetterReader(Uniform()).read_one(array, top_k=1))
    assert reading is None or isinstance(reading.text, str)
    batch = refused_or_read(lambda: predictor.preprocess([array]))
    assert batch is None or batch.shape == (1, 16, 48, 3)
