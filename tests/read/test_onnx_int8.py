"""`ocrlab export --int8`: a line model with an 8-bit CNN reads what the float model reads, the
same whatever its batch, and keeps everything a deployment needs; other kinds and bad
calibration folders are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image, ImageDraw

from ocrlab.cli import main
from ocrlab.errors import ConfigError
from ocrlab.read.onnx import OnnxPredictor, export_onnx
from ocrlab.synth.fonts import load_font, matplotlib_font_dir

TEXTS = ["k7Q", "Hx4mRt", "b3Wz9", "Pqd27F"]


def _image(text: str) -> np.ndarray:
    font = load_font(matplotlib_font_dir() / "DejaVuSerif.ttf", 30)
    im = Image.new("L", (int(font.getlength(text)) + 20, 44), 225)
    ImageDraw.Draw(im).text((10, 5), text, fill=30, font=font)
    return np.asarray(im)


def test_int8_reads_like_float_with_an_8_bit_cnn(tmp_path: Path) -> None:
    images = [_image(t) for t in TEXTS]
    calibration = [_image(t) for t in ("Zx81", "mwQe4T", "r2D")]
    fp32 = export_onnx("general", tmp_path / "fp32.onnx")
    int8 = export_onnx("general", tmp_path / "int8.onnx", int8=True, calibration=calibration)
    graph = onnx.load(str(int8)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv", "MaxPool", "LSTM"} <= ops
    assert "Relu" not in ops  # folded into the convolutions' 8-bit output ranges
    made_by = {out: node.op_type for node in graph.node for out in node.output}
    for node in graph.node:  # the CNN takes 8-bit inputs throughout
        if node.op_type in ("Conv", "MaxPool"):
            assert made_by[node.input[0]] == "DequantizeLinear", node.name
    assert "QuantizeLinear" not in {n.op_type for n in onnx.load(str(fp32)).graph.node}
    fast, exact = OnnxPredictor(int8), OnnxPredictor(fp32)
    assert fast.checkpoint == exact.checkpoint and fast.any_width
    assert [r.text for r in exact.read(images)] == TEXTS
    assert [r.text for r in fast.read(images)] == TEXTS
    lines = fast.preprocess(images)[:, :, :224]
    together = fast.run(lines)[0]
    alone = np.concatenate([fast.run(lines[i : i + 1])[0] for i in range(len(lines))])
    np.testing.assert_allclose(together, alone, atol=1e-5)  # a line reads so beside any others


def test_int8_is_refused_for_other_kinds_and_without_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--model", "words", "--onnx", str(tmp_path / "w.onnx"), "--int8"]) == 2
    assert "int8 export is for line models" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    out = str(tmp_path / "g.onnx")
    assert (
        main(["export", "--model", "general", "--onnx", out, "--int8", "--calibrate", str(empty)])
        == 2
    )
    assert "no images" in capsys.readouterr().err
    assert main(["export", "--model", "general", "--onnx", out, "--calibrate", str(empty)]) == 2
    assert "--calibrate goes with --int8" in capsys.readouterr().err
    assert not Path(out).exists()
    with pytest.raises(ConfigError, match="calibration images go with int8"):
        export_onnx("general", tmp_path / "g.onnx", int8=True, calibration=[])
    with pytest.raises(ConfigError, match="calibration images go with int8"):
        export_onnx("general", tmp_path / "g.onnx", calibration=[_image("ab")])
