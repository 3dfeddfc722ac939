"""The one Predictor: preprocess → model → postprocess → `Reading`s.

Built once from a run folder (`checkpoint.json` says what the model is, so no flags are needed) and
then called on batches of images: paths, bytes or (H, W, C) uint8 arrays of any size and mode. The
CLI, the HTTP API and the web page all go through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ocrlab.data.images import open_image
from ocrlab.errors import DatasetError
from ocrlab.models import build
from ocrlab.train import checkpoint
from ocrlab.train.batches import to_input
from ocrlab.train.device import resolve_device

ImageLike = Path | bytes | np.ndarray


@dataclass(frozen=True)
class Reading:
    """What the model read: text, confidence in [0, 1], per-character and top-k alternatives."""

    text: str
    confidence: float
    chars: list[tuple[str, float]] = field(default_factory=list)
    topk: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 6),
            "chars": [{"char": c, "p": round(p, 6)} for c, p in self.chars],
            "topk": [{"text": t, "p": round(p, 6)} for t, p in self.topk],
        }


class Predictor:
    """A loaded model with its preprocessing; `read(images)` returns one Reading per image."""

    def __init__(self, model: torch.nn.Module, meta: dict[str, Any], device: torch.device) -> None:
        self.model, self.meta, self.device = model.eval(), meta, device
        self.classes: list[str] = list(meta["classes"])
        self.size = (int(meta["input_size"][0]), int(meta["input_size"][1]))
        self.mode = "L" if int(meta["channels"]) == 1 else "RGB"

    @classmethod
    def load(cls, run: Path, device: str = "auto") -> Predictor:
        meta = checkpoint.load_meta(run)
        if meta["kind"] != "classifier":
            raise DatasetError(f"{run} holds a {meta['kind']} model, not a classifier")
        dev = resolve_device(device)
        model = build(meta["model"], **meta["model_config"])
        checkpoint.load_weights(run / checkpoint.WEIGHTS, model)
        return cls(model.to(dev), meta, dev)

    def preprocess(self, images: Sequence[ImageLike]) -> np.ndarray:
        """Any images → (N, H, W, C) uint8 at the model's input size."""
        out = np.empty((len(images), *self.size, 1 if self.mode == "L" else 3), dtype=np.uint8)
        for i, image in enumerate(images):
            if isinstance(image, np.ndarray):
                im = Image.fromarray(image.squeeze()).convert(self.mode)
            else:
                im = open_image(image, self.mode)
            if (im.height, im.width) != self.size:
                im = im.resize(self.size[::-1], Image.Resampling.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8)
            out[i] = arr[..., None] if arr.ndim == 2 else arr
        return out

    @torch.no_grad()
    def probabilities(self, batch: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(N, H, W, C) uint8 at the input size → (N, K) class probabilities."""
        probs = []
        for start in range(0, len(batch), batch_size):
            x = to_input(torch.from_numpy(batch[start : start + batch_size]).to(self.device), None)
            probs.append(torch.softmax(self.model(x).float(), dim=1).cpu().numpy())
        return np.concatenate(probs) if probs else np.zeros((0, len(self.classes)), np.float32)

    def read(self, images: Sequence[ImageLike], top_k: int = 5) -> list[Reading]:
        probs = self.probabilities(self.preprocess(images))
        k = max(1, min(top_k, len(self.classes)))
        readings = []
        for row in probs:
            best = np.argsort(-row, kind="stable")[:k]
            top = [(self.classes[j], float(row[j])) for j in best]
            readings.append(Reading(top[0][0], top[0][1], [], top))
        return readings
