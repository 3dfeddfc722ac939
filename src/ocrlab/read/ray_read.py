"""`ocrlab read --engine ray`: read millions of images with Ray Data into a JSON-lines file.

The images (files, folders, or the `path` column of a manifest.csv: `ocrlab.data.sources`) become a
Ray Dataset of paths; `map_batches` sends batches to a pool of actors, each holding one reader that
`ocrlab.read.resolve.load` built once (any model name, run folder, MLP or `.onnx` file), and each
batch is read by `ocrlab.read.batch.read_each`, so one bad image is one error line and the rest are
read. The driver appends the lines to the same `ResultLog` that `ocrlab read --out` writes:
`{"image": path, **reading}` or `{"image": path, "error": sentence}`, one per image, flushed as they
come (in the order batches finish), and a rerun skips the images already there, dropping a line a
killed run cut short; a rerun with another model or hint is refused. Ray is imported here only, when
asked for (`pip install 'ocrlab[distributed]'`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocrlab.data.sources import all_images
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.read.batch import ResultLog, read_each, reader_settings


class ReadBatch:
    """One Ray actor: a reader loaded once, called on batches of paths."""

    def __init__(
        self,
        model: str,
        top_k: int,
        device: str,
        charset: str | None,
        length: int | str | tuple[int, int] | None,
        thorough: bool = False,
        colour: bool = True,
    ) -> None:
        from ocrlab.read.auto import AutoReader
        from ocrlab.read.hint import Hint, hinted
        from ocrlab.read.letters import LetterReader
        from ocrlab.read.resolve import load

        self.reader = hinted(load(model, device), Hint.parse(charset, length, thorough, colour))
        self.top_k = top_k
        # The letter readers take images one at a time: a batch of them gains nothing.
        self.chunk = 1 if isinstance(self.reader, LetterReader | AutoReader) else 64

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outcomes = read_each(self._read, [str(p) for p in batch["path"]], chunk=self.chunk)
        lines = [json.dumps(o.to_dict(), ensure_ascii=False) for o in outcomes]
        return {"line": np.array(lines, dtype=object)}

    def _read(self, paths: list[Path]) -> Sequence[object]:
        return self.reader.read(paths, top_k=self.top_k)


@dataclass(frozen=True)
class Tally:
    """What a run did: images read now, images already read in the file, images that failed."""

    written: int
    skipped: int
    failed: int


def read_ray(
    sources: Sequence[Path],
    out: Path,
    *,
    model: str = "default",
    address: str | None = None,
    actors: int | None = None,
    batch_size: int = 64,
    top_k: int = 1,
    strict: bool = False,
    charset: str | None = None,
    length: int | str | tuple[int, int] | None = None,
    thorough: bool = False,
    colour: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Tally:
    """Read every image of `sources` not yet read in `out` (one that failed is tried again) and
    append its line; `out` read with another model, `top_k` or hint is refused. `strict` stops
    at the first unreadable image (its error raised, its line not written), as `ocrlab read
    --strict`; `charset`, `length`, `thorough` and `colour` hint a line model
    (`ocrlab.read.hint`)."""
    from ocrlab.read.hint import Hint, hinted
    from ocrlab.read.resolve import load

    if batch_size < 1 or (actors is not None and actors < 1):
        raise ConfigError("batch size and actors must be at least 1")
    images = all_images(sources)
    hint = Hint.parse(charset, length, thorough, colour)
    took = getattr(hinted(load(model, "cpu"), hint), "hint", None)  # a bad one fails here, once
    with ResultLog(out, reader_settings(model, top_k, took), images) as log:
        todo = [p for p in images if not log.holds(p)]
        reader = {"model": model, "top_k": top_k, "device": "cpu", "charset": charset,
                  "length": length, "thorough": thorough, "colour": colour}  # fmt: skip
        for lines in _batches(todo, reader, address, actors, batch_size) if todo else ():
            for line in lines:
                row = json.loads(line)
                if strict and "error" in row:
                    raise DatasetError(row["error"])
                log.write_row(row)
            if progress is not None:
                progress(len(lines))
        failed = len({p for p in images if log.failed_on(p)})
    return Tally(len(todo), len(images) - len(todo), failed)


def _batches(
    todo: list[str],
    reader: dict[str, object],
    address: str | None,
    actors: int | None,
    batch_size: int,
) -> Iterator[list[str]]:
    """The JSON lines of `todo`, a batch at a time as the actors finish them."""
    from ocrlab.synth.ray_engine import connect, import_ray

    ray = import_ray()
    connected = connect(ray, address)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        pool = min(pool, -(-len(todo) // batch_size))  # no idle actor for a short list
        ds = ray.data.from_items([{"path": p} for p in todo]).map_batches(
            ReadBatch,
            fn_constructor_kwargs=reader,
            batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=pool),
            num_cpus=1,
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            yield batch["line"].tolist()
    finally:
        if connected:
            ray.shutdown()
