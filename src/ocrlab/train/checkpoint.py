"""Checkpoints without pickle: weights as safetensors, everything else as JSON.

A run folder holds `model.safetensors` (the weights to use) and `checkpoint.json` (model name and
config, classes or charset, input size, training config, metrics), so loading a model needs no
flags. For resuming it also holds `last.safetensors` and `state.pt` (optimizer and scheduler), read
back with `torch.load(weights_only=True)`, which refuses arbitrary objects.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ocrlab.data.atomic import atomic_write, atomic_write_bytes
from ocrlab.errors import DatasetError

WEIGHTS, LAST, META, STATE = "model.safetensors", "last.safetensors", "checkpoint.json", "state.pt"


def save_weights(path: Path, model: nn.Module) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, st_save(tensors))


def load_weights(path: Path, model: nn.Module) -> None:
    """Load safetensors weights into `model`; any mismatch is a clear error naming the file."""
    try:
        tensors = st_load(path.read_bytes())
    except (OSError, SafetensorError) as exc:
        raise DatasetError(f"cannot read weights {path}: {exc}") from None
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise DatasetError(f"{path} does not fit this model ({first})") from None


def save_meta(run: Path, meta: dict[str, Any]) -> None:
    atomic_write_bytes(run / META, (json.dumps(meta, indent=1) + "\n").encode())


def load_meta(run: Path) -> dict[str, Any]:
    """The checkpoint.json of a run folder."""
    path = run / META if run.is_dir() else run
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{run} is not a trained model: no {META}") from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if not isinstance(meta, dict) or "model" not in meta or "kind" not in meta:
        raise DatasetError(f"{path} is not an ocrlab checkpoint")
    return meta


def save_state(run: Path, state: dict[str, Any]) -> None:
    atomic_write(run / STATE, lambda fh: torch.save(state, fh))


def load_state(run: Path) -> dict[str, Any]:
    try:
        return torch.load(run / STATE, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError) as exc:
        first = str(exc).splitlines()[0]
        raise DatasetError(f"cannot resume from {run / STATE}: {first}") from None
