"""ONNX export, and an onnxruntime predictor that returns the same Readings as the torch one.

A sequence model exports its fixed-length greedy loop (max_len + 1 decoder steps, unrolled), so the
graph maps images straight to tokens and their probabilities; a classifier exports logits → softmax.
The model's `Checkpoint` (kind, charset or classes, input size) is stored in the ONNX file's
`metadata_props`, so one file is all a deployment needs; its preprocessing is the kind's one
function (`ocrlab.runtime.preprocess`), as for the torch Predictor.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ocrlab.charset import Charset, Tokenizer
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import DatasetError
from ocrlab.read.predictor import (
    ImageLike,
    Predictor,
    Reading,
    readings_from_columns,
    readings_from_probs,
)
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.preprocess import preprocess, scale
from ocrlab.runtime.shipped import run_folder

META_KEY = "ocrlab"


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


def export_onnx(model: str | Path, out: Path, opset: int = 17) -> Path:
    """Write `model` (a shipped name or a run folder) as ONNX to `out` (input: (B, C, H, W) in
    [-1, 1])."""
    import onnx

    predictor = Predictor.load(run_folder(model), "cpu")
    seq = predictor.kind == "seq"
    wrapper = (_Greedy if seq else _Softmax)(predictor.model).eval()
    example = torch.zeros(1, predictor.checkpoint.channels, *predictor.size)
    outputs = ["tokens", "probs"] if seq else ["probs"]
    tmp = out.with_name(f".{out.name}.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on the unrolled loop are expected
        torch.onnx.export(
            wrapper,
            (example,),
            str(tmp),
            input_names=["images"],
            output_names=outputs,
            dynamic_axes={"images": {0: "batch"}, **{o: {0: "batch"} for o in outputs}},
            opset_version=opset,
            dynamo=False,
        )
    graph = onnx.load(str(tmp))
    tmp.unlink()
    entry = graph.metadata_props.add()
    entry.key, entry.value = META_KEY, json.dumps(predictor.checkpoint.to_dict())
    atomic_write_bytes(out, graph.SerializeToString())
    return out


class OnnxPredictor:
    """`read(images, top_k)` through onnxruntime, with the torch Predictor's preprocessing.

    The graph decodes greedily, so `top_k` adds alternatives for classifiers only.
    """

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise DatasetError(f"cannot load ONNX model {path}: {exc}") from None
        props = self.session.get_modelmeta().custom_metadata_map
        if META_KEY not in props:
            raise DatasetError(f"{path} was not exported by ocrlab (no metadata)")
        self.checkpoint = Checkpoint.from_dict(json.loads(props[META_KEY]), path)
        self.kind, self.classes = self.checkpoint.kind, list(self.checkpoint.classes)

    def preprocess(self, images: Sequence[ImageLike]) -> np.ndarray:
        ckpt = self.checkpoint
        return preprocess(ckpt.kind, images, ckpt.input_size, ckpt.mode)

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """(N, H, W, C) uint8 at the input size → the graph's outputs."""
        return list(self.session.run(None, {"images": scale(batch)}))

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(N, H, W, C) uint8 at the input size → (N, K) class probabilities."""
        (probs,) = self.run(batch)
        return probs

    def read(self, images: Sequence[ImageLike], top_k: int = 1) -> list[Reading]:
        return self.read_batch(self.preprocess(images), top_k)

    def read_batch(self, batch: np.ndarray, top_k: int = 1) -> list[Reading]:
        """Readings of an already preprocessed (N, H, W, C) uint8 batch."""
        if self.kind == "line":
            return readings_from_columns(self.run(batch)[0], Charset(self.checkpoint.charset))
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
