"""Find a reader by name: a run folder, an exported `.onnx` file, or the model shipped with ocrlab.

The shipped model (`ocrlab/read/assets/default/`) is a small sequence recogniser trained by the
command in README, so `ocrlab read IMAGE` works offline right after install.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Protocol

from ocrlab.errors import DatasetError
from ocrlab.read.predictor import ImageLike, Predictor, Reading


class Reader(Protocol):
    def read(self, images: list[ImageLike], top_k: int = 5) -> list[Reading]: ...


def default_model_dir() -> Path:
    """The run folder of the model shipped inside the package."""
    return Path(str(resources.files("ocrlab.read").joinpath("assets", "default")))


def load_reader(name: str | Path, device: str = "auto") -> Reader:
    """'default', a run folder, or an `.onnx` file → something with `read(images, top_k)`."""
    path = default_model_dir() if str(name) == "default" else Path(name)
    if path.suffix == ".onnx":
        from ocrlab.export import OnnxPredictor

        if not path.is_file():
            raise DatasetError(f"ONNX model not found: {path}")
        return OnnxPredictor(path)
    if not path.exists():
        raise DatasetError(f"model not found: {path}")
    return Predictor.load(path, device)
