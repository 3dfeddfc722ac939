"""The models shipped inside the package, by name, and turning a name or a path into a run folder.

`SHIPPED` maps each name to its folder under `ocrlab/runtime/assets/` and one line for
`ocrlab.models()`; adding a shipped model is one line. 'auto' is no folder but a reader made of two
of them (`ocrlab.read.auto`). Standard library only, so training (`--init default`), reading and
serving resolve names alike without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ocrlab.errors import DatasetError


@dataclass(frozen=True)
class Shipped:
    folder: str
    """A folder of `ocrlab/runtime/assets/` holding checkpoint.json and model.safetensors."""
    about: str


SHIPPED: dict[str, Shipped] = {
    "default": Shipped(
        "general", "the reader `ocrlab read` uses when no model is named (= general)"
    ),
    "general": Shipped(
        "general", "CRNN-CTC: one line of digits and letters, any font, style, shape"
    ),
    "words": Shipped("words", "sequence model: one line of English words in CAPTCHA-like images"),
    "captcha": Shipped("captcha", "sequence model: captcha_images_v2-style CAPTCHAs (5 chars)"),
    "letters": Shipped("letters", "letters CNN through the letter reader: letters, words, lines"),
}
AUTO = "auto"
"""Letters or words, chosen per image (`ocrlab.read.auto.AutoReader`)."""


def shipped_names() -> dict[str, str]:
    """Every name `ocrlab.load` takes besides a path, with one line each."""
    names = {name: s.about for name, s in SHIPPED.items()}
    return {**names, AUTO: "letters or words, whichever reads the image with more confidence"}


def shipped_folder(name: str) -> Path:
    """The run folder of shipped model `name`; a clear error when this install lacks it."""
    path = Path(str(resources.files("ocrlab.runtime").joinpath("assets", SHIPPED[name].folder)))
    if not (path / "checkpoint.json").is_file():
        raise DatasetError(
            f"the {name} model is not shipped with this install ({path}); train one and pass "
            "its run folder instead"
        )
    return path


def model_name(name_or_path: str | Path) -> str:
    """One name per model, to tell whether two runs read with the same one: a shipped model's
    folder ('default' is 'general'), 'auto', or the path made absolute."""
    name = str(name_or_path)
    if name in SHIPPED:
        return SHIPPED[name].folder
    return name if name == AUTO else str(Path(name).resolve())


def run_folder(name_or_path: str | Path) -> Path:
    """A shipped name → its folder; anything else is a path, which must exist."""
    if str(name_or_path) in SHIPPED:
        return shipped_folder(str(name_or_path))
    path = Path(name_or_path)
    if not path.exists():
        known = ", ".join(shipped_names())
        raise DatasetError(f"model not found: {path} is no path and no shipped model ({known})")
    return path
