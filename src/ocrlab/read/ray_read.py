"""`ocrlab read --engine ray`: read millions of images with Ray Data into a JSON-lines file.

The images (a folder, or the `path` column of a manifest.csv) become a Ray Dataset of paths;
`map_batches` sends batches to a pool of actors, each holding one reader built once by
`load_reader` (an exported `.onnx` file reads through onnxruntime; any other model name works
too), and the driver appends one line per image, `{"image": path, **reading}` or `{"image": path,
"error": sentence}` for an image that cannot be read, flushing after each batch. Lines come in
the order batches finish. Reading is resumable: images already in the output are skipped, and a
line cut short by a killed run is dropped before appending. Ray is imported here only, when asked
for (`pip install 'ocrlab[distributed]'`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ocrlab.errors import ConfigError, DatasetError, UserError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def list_images(source: Path) -> list[str]:
    """The image paths of a manifest's `path` column, of a dataset folder's manifest (not its
    preview), or of every image under a folder (sorted)."""
    if source.is_dir() and (source / "manifest.csv").is_file():
        source = source / "manifest.csv"
    if source.is_dir():
        return sorted(str(p) for p in source.rglob("*") if p.suffix.lower() in SUFFIXES)
    if source.suffix != ".csv" or not source.is_file():
        raise DatasetError(f"{source} is neither a folder of images nor a manifest .csv")
    with source.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and "path" not in rows[0]:
        raise DatasetError(f"{source} has no 'path' column")
    if any("#" in r["path"] for r in rows):
        raise DatasetError(f"{source} is a packed dataset; read a PNG dataset or a folder")
    return [str(source.parent / r["path"]) for r in rows]


def already_read(out: Path) -> set[str]:
    """Images with a line in `out`; a last line cut short by a killed run is removed first."""
    if not out.is_file():
        return set()
    data = out.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) != len(data):
        with out.open("r+b") as fh:
            fh.truncate(len(whole))
    return {json.loads(line)["image"] for line in whole.decode("utf-8").splitlines() if line}


class ReadBatch:
    """One Ray actor: a reader loaded once, called on batches of paths."""

    def __init__(self, model: str, top_k: int, device: str) -> None:
        from ocrlab.read.models import load_reader

        self.reader, self.top_k = load_reader(model, device), top_k

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        paths = [str(p) for p in batch["path"]]
        try:
            readings = self.reader.read([Path(p) for p in paths], self.top_k)
            lines = [_line(p, r.to_dict()) for p, r in zip(paths, readings, strict=True)]
        except UserError:  # one bad image: read the batch one by one, keep the others
            lines = [self._one(p) for p in paths]
        return {"line": np.array(lines, dtype=object)}

    def _one(self, path: str) -> str:
        try:
            return _line(path, self.reader.read([Path(path)], self.top_k)[0].to_dict())
        except UserError as exc:
            return _line(path, {"error": str(exc)})


def _line(path: str, fields: dict[str, Any]) -> str:
    return json.dumps({"image": path, **fields}, ensure_ascii=False) + "\n"


def read_ray(
    source: Path,
    out: Path,
    *,
    model: str = "default",
    address: str | None = None,
    actors: int | None = None,
    batch_size: int = 64,
    top_k: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Read every image of `source` not yet in `out` and append its line; returns how many."""
    from ocrlab.synth.ray_engine import connect, import_ray

    if batch_size < 1 or (actors is not None and actors < 1):
        raise ConfigError("batch size and actors must be at least 1")
    paths = list_images(source)
    done = already_read(out)
    todo = [p for p in paths if p not in done]
    if not todo:
        return 0
    from ocrlab.read.models import load_reader

    load_reader(model, "cpu")  # a bad model name fails here, once, not in every actor
    ray = import_ray()
    connected = connect(ray, address)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        ds = ray.data.from_items([{"path": p} for p in todo]).map_batches(
            ReadBatch,
            fn_constructor_kwargs={"model": model, "top_k": top_k, "device": "cpu"},
            batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=pool),
            num_cpus=1,
        )
        written = 0
        with out.open("a", encoding="utf-8") as fh:
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                fh.writelines(batch["line"].tolist())
                fh.flush()
                written += len(batch["line"])
                if progress is not None:
                    progress(len(batch["line"]))
    finally:
        if connected:
            ray.shutdown()
    return written
