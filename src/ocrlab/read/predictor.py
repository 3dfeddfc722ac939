"""The one Predictor: preprocess → model → postprocess → `Reading`s.

Built once from a run folder (`checkpoint.json` says what the model is, so no flags are needed) and
then called on batches of images: paths, bytes or (H, W, C) uint8 arrays of any size and mode. The
CLI, the HTTP API and the web page all go through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ocrlab.charset import BOS, Charset, Tokenizer
from ocrlab.data.images import open_image
from ocrlab.errors import DatasetError
from ocrlab.models import build
from ocrlab.models.seq2seq import Seq2Seq
from ocrlab.read.letters import LetterReader
from ocrlab.read.preprocess import load_rgb
from ocrlab.read.reading import ImageLike, Reading
from ocrlab.train import checkpoint
from ocrlab.train.batches import to_input
from ocrlab.train.device import resolve_device

__all__ = ["KINDS", "ImageLike", "Predictor", "Reading"]  # Reading lives in read/reading.py
KINDS = ("classifier", "letters", "seq")


class Predictor:
    """A loaded model with its preprocessing; `read(images)` returns one Reading per image."""

    def __init__(self, model: torch.nn.Module, meta: dict[str, Any], device: torch.device) -> None:
        self.model, self.meta, self.device = model.eval(), meta, device
        self.kind: str = meta["kind"]
        self.size = (int(meta["input_size"][0]), int(meta["input_size"][1]))
        self.mode = "L" if int(meta["channels"]) == 1 else "RGB"
        self.classes: list[str] = list(meta.get("classes", []))
        self.tokenizer: Tokenizer | None = None
        if self.kind == "seq":
            self.tokenizer = Tokenizer(Charset(meta["charset"]), int(meta["max_len"]))

    @classmethod
    def load(cls, run: Path, device: str = "auto") -> Predictor:
        meta = checkpoint.load_meta(run)
        if meta["kind"] not in KINDS:
            raise DatasetError(f"{run} holds a {meta['kind']!r} model; known kinds: {KINDS}")
        dev = resolve_device(device)
        model = build(meta["model"], **meta["model_config"])
        checkpoint.load_weights(run / checkpoint.WEIGHTS, model)
        return cls(model.to(dev), meta, dev)

    def preprocess(self, images: Sequence[ImageLike]) -> np.ndarray:
        """Any images → (N, H, W, C) uint8 at the model's input size, resized as they are (for a
        letters model that is the seed's naive resize, kept as a baseline; `read` does better)."""
        out = np.empty((len(images), *self.size, 1 if self.mode == "L" else 3), dtype=np.uint8)
        for i, image in enumerate(images):
            if isinstance(image, np.ndarray):  # checked like every array a reader takes
                im = Image.fromarray(load_rgb(image)).convert(self.mode)
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
        """One Reading per image: text, confidence, per-character probabilities, top-k.

        A letters model reads through the letter reader (K-means binarisation, segmentation,
        EMNIST-like 28×28 letters): resizing a real image naively is the seed's failure.
        """
        if self.kind == "letters":
            return LetterReader(self).read(images, top_k)
        return self.read_batch(self.preprocess(images), top_k)

    def read_batch(self, batch: np.ndarray, top_k: int = 5) -> list[Reading]:
        """Readings of an already preprocessed (N, H, W, C) uint8 batch (see `preprocess`)."""
        if self.kind == "seq":
            return [
                r for s in range(0, len(batch), 64) for r in self._spell(batch[s : s + 64], top_k)
            ]
        return self._classify(batch, top_k)

    def _classify(self, batch: np.ndarray, top_k: int) -> list[Reading]:
        return self.readings_from_probs(self.probabilities(batch), top_k)

    def readings_from_probs(self, probs: np.ndarray, top_k: int) -> list[Reading]:
        """Readings from (N, K) class probabilities: the best class and the top-k."""
        k = max(1, min(top_k, len(self.classes)))
        readings = []
        for row in probs:
            best = np.argsort(-row, kind="stable")[:k]
            top = [(self.classes[j], float(row[j])) for j in best]
            readings.append(Reading(top[0][0], top[0][1], [], top))
        return readings

    @torch.no_grad()
    def _spell(self, batch: np.ndarray, top_k: int) -> list[Reading]:
        """Greedy decoding for one reading, beam search for `top_k` > 1 alternatives."""
        assert self.tokenizer is not None
        model = self.model
        assert isinstance(model, Seq2Seq)
        x = to_input(torch.from_numpy(batch).to(self.device), None)
        if top_k <= 1:
            tokens, _ = model.greedy(x)
            candidates, scores = tokens[:, None], torch.zeros(len(batch), 1)
        else:
            candidates, scores = model.beam(x, top_k)
        best = candidates[:, 0]  # (B, L)
        step_p = self._token_probs(x, best)  # (B, L)
        readings = []
        for i in range(len(batch)):
            text = self.tokenizer.decode(best[i].tolist())
            p = step_p[i].tolist()
            chars = list(zip(text, p[: len(text)], strict=True))
            confidence = float(np.prod(p[: len(text) + 1]))  # every character and the <eos>
            topk = [(text, confidence)]
            if top_k > 1:
                seen = {text}
                for j in range(1, candidates.shape[1]):
                    alt = self.tokenizer.decode(candidates[i, j].tolist())
                    if alt not in seen:
                        seen.add(alt)
                        topk.append((alt, float(torch.exp(scores[i, j]))))
            readings.append(Reading(text, confidence, chars, topk))
        return readings

    def _token_probs(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Probability the model gives each token of `tokens` (B, L), teacher-forced."""
        assert isinstance(self.model, Seq2Seq)
        start = torch.full((len(tokens), 1), BOS, dtype=torch.long, device=tokens.device)
        logits = self.model(x, torch.cat([start, tokens[:, :-1]], dim=1))  # (B, L, V)
        return torch.softmax(logits.float(), -1).gather(2, tokens[..., None])[..., 0].cpu()
