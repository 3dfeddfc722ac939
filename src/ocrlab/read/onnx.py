"""ONNX export, and an onnxruntime predictor that returns the same Readings as the torch one.

A sequence model exports its fixed-length greedy loop (max_len + 1 decoder steps, unrolled), so the
graph maps images straight to tokens and their probabilities; a classifier exports logits → softmax.
The model's `Checkpoint` (kind, charset or classes, input size) is stored in the ONNX file's
`metadata_props`, so one file is all a deployment needs; its preprocessing is the kind's one
function (`ocrlab.runtime.preprocess`), as for the torch Predictor.

A line model can be exported with an 8-bit CNN (`int8=True`): convolution weights per channel
and activations calibrated on a few hundred lines (static quantisation, onnxruntime's QDQ
format), each ReLU folded into its convolution's output range and the max-pools kept in 8 bits,
so the CNN runs from the first convolution to the last without leaving 8 bits. On AVX512-VNNI
cores it runs about twice as fast for under a point of exact match (docs/general.md); the LSTM
stays in float32. Without VNNI, onnxruntime's 8-bit kernels can saturate and speed-ups are
smaller: measure on the target machine before shipping.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ocrlab.charset import Charset, Tokenizer
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.read.hint import Hint
from ocrlab.read.predictor import (
    Colour,
    ImageLike,
    Predictor,
    Reading,
    colour_look,
    read_lines,
    read_views,
    readings_from_columns,
    readings_from_probs,
)
from ocrlab.runtime.checkpoint import ONNX_META_KEY, Checkpoint
from ocrlab.runtime.line import width_buckets
from ocrlab.runtime.preprocess import preprocess, scale
from ocrlab.runtime.shipped import run_folder

CALIBRATION = 256
"""Zoo lines that calibrate an int8 export's activations when the caller gives none."""


class _Greedy(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.greedy(images)  # type: ignore[operator]


class _Softmax(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(images), dim=-1)  # (B, K), or (B, T, V) for a line


def export_onnx(
    model: str | Path,
    out: Path,
    opset: int = 17,
    int8: bool = False,
    calibration: Sequence[ImageLike] | None = None,
) -> Path:
    """Write `model` (a shipped name or a run folder) as ONNX to `out` (input: (B, C, H, W) in
    [-1, 1]); `int8` quantises a line model's convolutions, calibrated on `calibration` images
    (default: `CALIBRATION` lines of the zoo, none of them evaluation data)."""
    import onnx

    if calibration is not None and (not int8 or not calibration):
        raise ConfigError("calibration images go with int8=True, and there must be some")
    predictor = Predictor.load(run_folder(model), "cpu")
    if int8 and predictor.kind != "line":
        raise ConfigError(f"int8 export is for line models; {model} is a {predictor.kind!r} model")
    seq = predictor.kind == "seq"
    wrapper = (_Greedy if seq else _Softmax)(predictor.model).eval()
    example = torch.zeros(1, predictor.checkpoint.channels, *predictor.size)
    outputs = ["tokens", "probs"] if seq else ["probs"]
    axes = {"images": {0: "batch"}, **{o: {0: "batch"} for o in outputs}}
    if predictor.kind == "line":  # read at the width of the line's bucket (`width_buckets`)
        axes = {"images": {0: "batch", 3: "width"}, "probs": {0: "batch", 1: "columns"}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on the unrolled loop are expected
            torch.onnx.export(
                wrapper,
                (example,),
                str(path),
                input_names=["images"],
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=opset,
                dynamo=False,
            )
        if int8:
            images = _zoo_images(CALIBRATION) if calibration is None else calibration
            lines = predictor.preprocess(images)
            path = _quantise_cnn(path, lines)
        graph = onnx.load(str(path))
    entry = graph.metadata_props.add()
    entry.key, entry.value = ONNX_META_KEY, json.dumps(predictor.checkpoint.to_dict())
    atomic_write_bytes(out, graph.SerializeToString())
    return out


def _zoo_images(count: int) -> list[np.ndarray]:
    """`count` zoo CAPTCHAs in the bundled fonts: lines like the general reader's training."""
    from ocrlab.synth.fonts import default_fonts
    from ocrlab.synth.zoo import Zoo, ZooConfig
    from ocrlab.synth.zoo_set import ZooRender

    render = ZooRender(Zoo(ZooConfig(seed=0), default_fonts()))
    return [render(i)[0] for i in range(count)]


def _quantise_cnn(path: Path, lines: np.ndarray) -> Path:
    """Static int8 quantisation of the CNN of the ONNX file `path`, activations calibrated on
    (N, H, W, 1) uint8 `lines` read at their bucket widths; returns the new file.

    The ReLUs and max-pools are quantised with the convolutions: a ReLU then folds into its
    convolution's output range and the pools take 8 bits, where quantising the convolutions
    alone left a dequantise-requantise pair after every convolution, a fifth of the int8
    graph's time. Not the LSTM: onnxruntime quantises it only dynamically, from each batch's
    own range, so a line would read differently beside other lines."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Lines(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches: Iterator[dict[str, np.ndarray]] = (
                {"images": scale(lines[rows, :, :cols])} for rows, cols in width_buckets(lines, 32)
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    inferred, quantised = path.with_name("inferred.onnx"), path.with_name("int8.onnx")
    quant_pre_process(str(path), str(inferred))
    quantize_static(
        str(inferred), str(quantised), Lines(), quant_format=QuantFormat.QDQ, per_channel=True,
        op_types_to_quantize=["Conv", "Relu", "MaxPool"], weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
    )  # fmt: skip
    return quantised


class OnnxPredictor:
    """`read(images, top_k)` through onnxruntime, with the torch Predictor's preprocessing.

    A sequence model's graph decodes greedily, so `top_k` adds alternatives for classifiers
    and line models (whose columns the graph gives: `readings_from_columns`).
    """

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise DatasetError(f"cannot load ONNX model {path}: {exc}") from None
        props = self.session.get_modelmeta().custom_metadata_map
        if ONNX_META_KEY not in props:
            raise DatasetError(f"{path} was not exported by ocrlab (no metadata)")
        self.checkpoint = Checkpoint.from_dict(json.loads(props[ONNX_META_KEY]), path)
        self.kind, self.classes = self.checkpoint.kind, list(self.checkpoint.classes)
        self.hint: Hint | None = None
        """What the text may be, for a line model's decoder (`ocrlab.read.hint.hinted`)."""
        width = self.session.get_inputs()[0].shape[3]
        self.any_width = self.kind == "line" and not isinstance(width, int)
        """A line model exported with a free width; older files read every line whole."""
        self.size = self.checkpoint.input_size
        """The input the images are preprocessed to: an older line file's own fixed width."""
        if self.kind == "line" and not self.any_width:
            self.size = (self.size[0], width)
            warnings.warn(
                f"{path} takes whole lines only (exported before ocrlab read lines at their "
                "text's width): its readings can differ a little from the torch model's; "
                "export it again with `ocrlab export`",
                stacklevel=2,
            )

    def preprocess(self, images: Sequence[ImageLike]) -> np.ndarray:
        ckpt = self.checkpoint
        return preprocess(self.kind, images, self.size, ckpt.mode, ckpt.steps)

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """(N, H, W, C) uint8 (a line model's cut to any width) → the graph's outputs."""
        return list(self.session.run(None, {"images": scale(batch)}))

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(N, H, W, C) uint8 at the input size → (N, K) class probabilities."""
        (probs,) = self.run(batch)
        return probs

    def read(self, images: Sequence[ImageLike], top_k: int = 1) -> list[Reading]:
        return self.read_batch(self.preprocess(images), top_k, colour_look(self, images))

    def read_batch(
        self, batch: np.ndarray, top_k: int = 1, colour: Colour | None = None
    ) -> list[Reading]:
        """Readings of an already preprocessed (N, H, W, C) uint8 batch (a line model's looks
        again at the unsure ones in `colour` and widened, as `Predictor.read_batch`)."""
        if self.kind == "line":
            charset = Charset(self.checkpoint.charset)
            if self.any_width:
                columns, wide = (lambda lines: self.run(lines)[0]), self.checkpoint.wide
                return read_lines(batch, columns, charset, self.hint, top_k, colour, wide)
            beam = 1 if self.hint is not None and self.hint.thorough else top_k
            return read_views(
                batch,
                lambda lines: readings_from_columns(self.run(lines)[0], charset, self.hint, beam),
                self.hint,
                top_k,
            )
        if self.kind != "seq":
            return readings_from_probs(self.probabilities(batch), self.classes, top_k)
        tokens, probs = self.run(batch)
        tokenizer = Tokenizer(Charset(self.checkpoint.charset), self.checkpoint.max_len)
        readings = []
        for row, p in zip(tokens, probs, strict=True):
            text = tokenizer.decode(row.tolist())
            confidence = float(np.prod(p[: len(text) + 1]))
            chars = list(zip(text, p[: len(text)].tolist(), strict=True))
            readings.append(Reading(text, confidence, chars, [(text, confidence)]))
        return readings
