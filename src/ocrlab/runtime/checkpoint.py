"""Checkpoints without pickle: weights as safetensors, everything else as JSON.

A run folder holds `model.safetensors` (the weights to use) and `checkpoint.json`, described by
the one `Checkpoint` dataclass (model name and config, classes or charset, input size, training
config, metrics), so loading a model needs no flags. For resuming it also holds `last.safetensors`
and `state.pt` (optimizer and scheduler), read back with `torch.load(weights_only=True)`, which
refuses arbitrary objects. Training writes here and reading loads from here; neither imports the
other (DESIGN.md rule 1).
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ocrlab import __version__
from ocrlab.charset import SPECIALS
from ocrlab.data.atomic import atomic_write, atomic_write_bytes
from ocrlab.errors import DatasetError
from ocrlab.runtime.line import LineSteps, valid_side

WEIGHTS, LAST, META, STATE = "model.safetensors", "last.safetensors", "checkpoint.json", "state.pt"
ONNX_META_KEY = "ocrlab"
"""The `metadata_props` entry of an exported ONNX file that holds its `Checkpoint` as JSON."""


def save_weights(path: Path, model: nn.Module) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, st_save(tensors))


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    try:
        return st_load(path.read_bytes())
    except (OSError, SafetensorError) as exc:
        raise DatasetError(f"cannot read weights {path}: {exc}") from None


def load_model(run: Path, ckpt: Checkpoint, make: Callable[[], nn.Module]) -> nn.Module:
    """The model `make` builds from `ckpt`, with the weights of the run folder `run`. It is built
    on the meta device and its shapes compared with the file's first, so a checkpoint.json from
    elsewhere that asks for a huge model is refused before any memory is allocated for it; its
    outputs must then be the checkpoint's classes or characters (`check_outputs`)."""
    path = run / WEIGHTS
    tensors = _read_weights(path)
    try:
        with torch.device("meta"):
            model = make()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DatasetError(f"{run / META} describes no model ocrlab builds: {exc}") from None
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    have = {k: tuple(v.shape) for k, v in tensors.items()}
    if want != have:
        name = sorted(want.keys() ^ have.keys() or {k for k in want if want[k] != have[k]})[0]
        raise DatasetError(
            f"{path} does not fit the model its {META} describes ({name}: the file has "
            f"{have.get(name, 'nothing')}, the model needs {want.get(name, 'nothing')})"
        )
    check_outputs(model, ckpt, run)
    model = model.to_empty(device="cpu")
    load_weights(path, model, tensors)
    return model


def check_outputs(model: nn.Module, ckpt: Checkpoint, run: Path) -> None:
    """A model's outputs (its `head`'s last linear layer) must be its checkpoint's classes or
    characters, one each: a reading must never index past the names it has."""
    head = model.get_submodule("head")
    linear = [m for m in head.modules() if isinstance(m, nn.Linear)][-1]
    spelt = ckpt.kind in ("seq", "line")
    names = len(SPECIALS) + len(ckpt.charset) if spelt else len(ckpt.classes)
    if linear.out_features != names:
        raise DatasetError(
            f"{run / META} is inconsistent: its model has {linear.out_features} outputs for "
            f"{names} classes or characters (with the specials)"
        )


def load_weights(
    path: Path, model: nn.Module, tensors: dict[str, torch.Tensor] | None = None
) -> None:
    """Load safetensors weights into `model`; any mismatch is a clear error naming the file."""
    tensors = _read_weights(path) if tensors is None else tensors
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise DatasetError(f"{path} does not fit this model ({first})") from None


@dataclass(frozen=True)
class Checkpoint:
    """What `checkpoint.json` says about a trained model: enough to rebuild and feed it."""

    kind: str
    """What reads it: "classifier" (one class per image), "seq" (spells text), "letters"."""
    model: str
    """A name of `ocrlab.models.BUILDERS`."""
    model_config: dict[str, Any]
    input_size: tuple[int, int]
    """(H, W) of the model's input."""
    channels: int
    """1 (grey) or 3 (RGB)."""
    classes: list[str] = field(default_factory=list)
    """Class names (classifier and letters kinds)."""
    charset: str = ""
    """The characters a sequence model spells."""
    max_len: int = 0
    """Longest text a sequence model spells."""
    frame: bool = True
    """Whether a line model's preprocessing gives a tight crop a margin (`runtime.line.frame`):
    the general reader learnt text with room around it; a model fine-tuned on one scheme learns
    that scheme's images as they come."""
    fill: int = 0
    """Side of the square a line model's preprocessing closes each image's ink by before resizing
    (`runtime.line.fill`; 0: none): a model fine-tuned on a dot-screened scheme learns it solid."""
    median: int = 0
    """Side of the square over which a line model's preprocessing takes each pixel's median first
    (`runtime.line.median`; 0: none): a model fine-tuned on a scheme drawn over by thin lines
    learns it without them."""
    crop: bool = False
    """Whether a line model's preprocessing cuts each image's rows to its text body and a margin
    (`runtime.line.crop`): a fine-tuned model learns its scheme's glyphs as large as they fit."""
    colour: bool = False
    """Whether a reader of a line model looks again at a colour image whose reading is unsure,
    in a grey that keeps its colour contrast (`runtime.line.grey`), and keeps the surer reading
    (`ocrlab.read.predictor.read_lines`): the general reader's way; a model fine-tuned on one
    scheme reads what it learnt from."""
    wide: bool = False
    """Whether a reader of a line model reads an unsure short line again with its text wider and
    keeps that reading where it is much surer (`ocrlab.read.predictor.WIDE`): the general
    reader's way with squeezed CAPTCHAs; a model fine-tuned on one scheme learnt its widths."""
    title: str = ""
    data: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    """The trainer's whole config, as `ocrlab.config.to_dict` writes it."""
    split: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    ocrlab: str = __version__

    @property
    def steps(self) -> LineSteps:
        """The optional steps a line model's lines go through: those it learnt with."""
        return LineSteps(self.frame, self.fill, median=self.median, crop=self.crop)

    @property
    def mode(self) -> str:
        """The Pillow mode of the input: "L" or "RGB"."""
        return "L" if self.channels == 1 else "RGB"

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "input_size": list(self.input_size)}

    @classmethod
    def from_dict(cls, raw: Any, source: object = "checkpoint") -> Checkpoint:
        """A checkpoint from its JSON; a missing, unknown or mistyped field names `source`."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(raw, dict) or not {"kind", "model"} <= raw.keys():
            raise DatasetError(f"{source} is not an ocrlab checkpoint")
        unknown = sorted(raw.keys() - names)
        if unknown:
            raise DatasetError(f"{source} has unknown fields {unknown}")
        for flag, default in (("frame", True), ("crop", False), ("colour", False), ("wide", False)):
            if not isinstance(raw.get(flag, default), bool):
                raise DatasetError(f"{source}: {flag} must be true or false, got {raw[flag]!r}")
        for side in ("fill", "median"):
            if not valid_side(raw.get(side, 0)):
                raise DatasetError(
                    f"{source}: {side} must be 0 or an odd number ≥ 3: {raw[side]!r}"
                )
        try:
            size = raw["input_size"]
            return cls(**{**raw, "input_size": (int(size[0]), int(size[1]))})
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DatasetError(f"{source} is not a valid ocrlab checkpoint: {exc}") from None


def learnt_steps(steps: LineSteps) -> dict[str, Any]:
    """The fields of a line model's checkpoint that keep the steps its lines went through, which
    `Checkpoint.steps` reads back (`chroma` is a reader's second look, not a learnt step)."""
    return {"frame": steps.frame, "fill": steps.fill, "median": steps.median, "crop": steps.crop}


def save_checkpoint(run: Path, ckpt: Checkpoint) -> None:
    data = json.dumps(ckpt.to_dict(), indent=1) + "\n"
    atomic_write_bytes(run / META, data.encode())


def load_checkpoint(run: Path) -> Checkpoint:
    """The `Checkpoint` of a run folder (or of its checkpoint.json)."""
    path = run / META if run.is_dir() else run
    if path.is_file() and path.suffix != ".json":
        raise DatasetError(
            f"{run} is a file, not a trained model: give its run folder (a reader also takes an "
            "exported .onnx file or a shipped name)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{run} is not a trained model: no {META}") from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    return Checkpoint.from_dict(raw, path)


def save_state(run: Path, state: dict[str, Any]) -> None:
    atomic_write(run / STATE, lambda fh: torch.save(state, fh))


def load_state(run: Path) -> dict[str, Any]:
    try:
        return torch.load(run / STATE, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError) as exc:
        first = str(exc).splitlines()[0]
        raise DatasetError(f"cannot resume from {run / STATE}: {first}") from None
