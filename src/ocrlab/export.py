"""ONNX export, and an onnxruntime predictor that returns the same Readings as the torch one.

A sequence model exports its fixed-length greedy loop (max_len + 1 decoder steps, unrolled), so the
graph maps images straight to tokens and their probabilities; a classifier exports logits → softmax.
The model's metadata (kind, charset or classes, input size) is stored in the ONNX file's
`metadata_props`, so one file is all a deployment needs.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import DatasetError
from ocrlab.read.letters import LetterReader
from ocrlab.read.predictor import ImageLike, Predictor, Reading, readings_from_columns

META_KEY = "ocrlab"


class _Greedy(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.greedy(images)  # type: ignore[operator]


class _Softmax(nn.Module):
    """Class probabilities, over the last axis: (B, K) for a classifier, (B, T, V) for a CTC line
    model's columns."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(images), dim=-1)


def export_onnx(run: Path, out: Path, opset: int = 17) -> Path:
    """Write the model of run folder `run` as ONNX to `out` (input: (B, C, H, W) in [-1, 1])."""
    import onnx

    predictor = Predictor.load(run, "cpu")
    seq = predictor.kind == "seq"
    wrapper = (_Greedy if seq else _Softmax)(predictor.model).eval()
    channels = 1 if predictor.mode == "L" else 3
    example = torch.zeros(1, channels, *predictor.size)
    outputs = ["tokens", "probs"] if seq else ["probs"]
    tmp = out.with_name(f".{out.name}.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes (unrolled loop, LSTM) are expected
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
    entry.key, entry.value = META_KEY, json.dumps(predictor.meta)
    atomic_write_bytes(out, graph.SerializeToString())
    return out


class OnnxPredictor:
    """`read(images, top_k)` through onnxruntime; preprocessing is the torch Predictor's."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise DatasetError(f"cannot load ONNX model {path}: {exc}") from None
        props = self.session.get_modelmeta().custom_metadata_map
        if META_KEY not in props:
            raise DatasetError(f"{path} was not exported by ocrlab (no metadata)")
        self.meta: dict[str, Any] = json.loads(props[META_KEY])
        self._pre = Predictor(nn.Identity(), self.meta, torch.device("cpu"))

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """(N, H, W, C) uint8 at the input size → the graph's outputs."""
        x = batch.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(127.5) - np.float32(1.0)
        return list(self.session.run(None, {"images": x}))

    @property
    def classes(self) -> list[str]:
        return self._pre.classes

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """(N, H, W, C) uint8 at the input size → (N, K) class probabilities."""
        (probs,) = self.run(batch)
        return probs

    def read(self, images: Sequence[ImageLike], top_k: int = 5) -> list[Reading]:
        if self._pre.kind == "letters":  # through the letter reader, as the torch Predictor
            return LetterReader(self).read(images, top_k)
        batch = self._pre.preprocess(images)
        if self._pre.kind == "line":
            assert self._pre.tokenizer is not None
            return readings_from_columns(self.run(batch)[0], self._pre.tokenizer)
        if self._pre.kind != "seq":
            (probs,) = self.run(batch)
            return self._pre.readings_from_probs(probs, top_k)
        tokens, probs = self.run(batch)
        tokenizer = self._pre.tokenizer
        assert tokenizer is not None
        readings = []
        for row, p in zip(tokens, probs, strict=True):
            text = tokenizer.decode(row.tolist())
            confidence = float(np.prod(p[: len(text) + 1]))
            chars = list(zip(text, p[: len(text)].tolist(), strict=True))
            readings.append(Reading(text, confidence, chars, [(text, confidence)]))
        return readings
