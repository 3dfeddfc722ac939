"""The general reader reads each line at the width of its text's bucket (`width_buckets`): the
same reading alone or in any batch, and the same through torch and ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image, ImageDraw

from ocrlab.read.onnx import OnnxPredictor, export_onnx
from ocrlab.read.predictor import Predictor
from ocrlab.runtime.shipped import shipped_folder
from ocrlab.synth.fonts import load_font, matplotlib_font_dir

TEXTS = ["k7Q", "Hx4mRt", "AlineOfTextWideEnoughToFillItAll"]


def _image(text: str) -> np.ndarray:
    font = load_font(matplotlib_font_dir() / "DejaVuSans.ttf", 28)
    im = Image.new("L", (int(font.getlength(text)) + 16, 40), 235)
    ImageDraw.Draw(im).text((8, 4), text, fill=20, font=font)
    return np.asarray(im)


@pytest.fixture(scope="module")
def readers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Predictor, OnnxPredictor]:
    path = export_onnx("general", tmp_path_factory.mktemp("onnx") / "general.onnx")
    return Predictor.load(shipped_folder("general"), "cpu"), OnnxPredictor(path)


def test_a_line_reads_the_same_alone_in_company_and_through_onnx(
    readers: tuple[Predictor, OnnxPredictor],
) -> None:
    torch_reader, onnx_reader = readers
    assert onnx_reader.any_width  # the exported graph takes any width
    images = [_image(t) for t in TEXTS]
    together = torch_reader.read(images)
    assert [r.text for r in together[:2]] == TEXTS[:2]  # a real reading, not an empty one
    for reader in readers:
        alone = [reader.read([image])[0] for image in images]
        mixed = reader.read(images[::-1])[::-1]
        for a, b, c in zip(together, alone, mixed, strict=True):
            assert a.text == b.text == c.text
            assert a.confidence == pytest.approx(b.confidence, rel=1e-4)
            assert a.confidence == pytest.approx(c.confidence, rel=1e-4)


def test_a_file_exported_with_a_fixed_width_still_reads_whole_lines(
    readers: tuple[Predictor, OnnxPredictor], tmp_path: Path
) -> None:
    """ONNX files from before the width buckets have a fixed 256-column input: read whole."""
    graph = onnx.load(str(export_onnx("general", tmp_path / "g.onnx")))
    graph.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 256
    onnx.save(graph, str(tmp_path / "fixed.onnx"))
    with pytest.warns(UserWarning, match="whole lines only"):
        fixed = OnnxPredictor(tmp_path / "fixed.onnx")
    assert not fixed.any_width
    images = [_image(t) for t in TEXTS[:2]]
    assert [r.text for r in fixed.read(images)] == TEXTS[:2]


def test_a_long_line_is_read_at_its_own_shape(readers: tuple[Predictor, OnnxPredictor]) -> None:
    """38 and 33 characters are 553 and 455 columns at the reader's height. Squeezed into 256, as
    lines were before, the shipped reader drops or mistakes characters of both; kept whole it
    reads them (and 20 of 30 such random lines of 20-40 characters, against 9 of 30 squeezed)."""
    texts = ["R5BLmFg8QysGFbuN3z5sbkm2uZKYivBnrRg1y7", "vJN6U6PrPod6eWGP4xkGXY4nttSt2JxkS"]
    images = [_image(t) for t in texts]
    assert all(image.shape[1] * 32 / image.shape[0] > 450 for image in images)
    torch_reader, onnx_reader = readers
    assert torch_reader.size[1] >= 1024 and onnx_reader.size[1] >= 1024
    for reader in readers:
        assert [r.text for r in reader.read(images)] == texts


def test_debug_stages_show_the_columns_a_line_is_read_at(
    readers: tuple[Predictor, OnnxPredictor],
) -> None:
    from ocrlab.read.resolve import read_with_stages

    image = _image("k7Q")  # 58 columns at the reader's height: read at 96 of the 1,024
    for reader in readers:
        reading, stages = read_with_stages(reader, image)
        model_input = dict(stages.images)["model-input"]
        assert reading.text == "k7Q" and model_input.shape[:2] == (32, 96)
