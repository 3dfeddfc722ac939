"""Read many images and keep going: one unreadable image is one error, never the whole batch.

Someone reading 100,000 scraped CAPTCHAs must not lose the run to one truncated file. `read_each`
reads images in chunks (so a model still sees batches) and, when a chunk holds an image the reader
refuses (`UserError`), reads its halves again the same way down to single images, so each image
gets its own `Outcome`: a reading or the one-sentence error. `strict` stops at the first error.
`ResultLog` streams outcomes to a JSON Lines file as they come and tells a restarted run which
images are already there (a failed one is tried again), and refuses to add to a file whose
readings another model or hint made. Bugs (anything but `UserError`) still
stop the run. Imports the standard library and ocrlab's standard-library-only modules (`errors`,
`data.atomic`, `runtime.shipped`); the reader is passed in.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import DatasetError, UserError
from ocrlab.runtime.shipped import model_name

if TYPE_CHECKING:
    from ocrlab.read.hint import Hint

T = TypeVar("T")
R = TypeVar("R")
ReadFn = Callable[[list[Path]], Sequence[Any]]
"""Paths → one reading (anything with `to_dict()`) per path; raises `UserError` on a bad image."""


@dataclass(frozen=True)
class Outcome:
    """One image's result: a reading, or the sentence saying why it could not be read."""

    image: str
    reading: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"image": self.image, "error": self.error}
        return {"image": self.image, **self.reading.to_dict()}


def read_each(
    read: ReadFn, images: Sequence[str], strict: bool = False, chunk: int = 64
) -> Iterator[Outcome]:
    """One Outcome per image, in order; a refused image is an error Outcome unless `strict`."""
    for start in range(0, len(images), chunk):
        part = list(images[start : start + chunk])
        if strict:
            yield from (Outcome(p, r) for p, r in zip(part, read(_paths(part)), strict=True))
            continue
        for p, r in zip(part, read_or_refuse(lambda ps: read(_paths(ps)), part), strict=True):
            yield Outcome(p, error=str(r)) if isinstance(r, UserError) else Outcome(p, r)


def read_or_refuse(
    read: Callable[[list[T]], Sequence[R]], part: list[T]
) -> Iterator[R | UserError]:
    """`read(part)`, one result per item, with the `UserError` in place of each item it refuses:
    a refused batch is read again in halves, so one bad image costs about log2(len(part))
    smaller batches, not len(part) single reads."""
    try:
        results = list(read(part))
    except UserError as exc:
        if len(part) == 1:
            yield exc
            return
        half = len(part) // 2
        yield from read_or_refuse(read, part[:half])
        yield from read_or_refuse(read, part[half:])
        return
    if len(results) != len(part):
        raise ValueError(f"the reader gave {len(results)} results for {len(part)} images")
    yield from results


def _paths(images: list[str]) -> list[Path]:
    return [Path(p) for p in images]


def error_line(outcome: Outcome) -> str:
    """The stderr line for a failed image; names the image when the error does not."""
    error = outcome.error or ""
    return f"ocrlab: error: {error if outcome.image in error else f'{outcome.image}: {error}'}"


Settings = dict[str, Any]
"""`reader_settings`: kept beside a results file as `<file>.reader.json`."""


def reader_settings(
    model: str | Path, top_k: int = 1, hint: Hint | None = None, lines: bool = False
) -> Settings:
    """What decides an image's reading besides the image: the model (one name for each:
    `model_name`), the alternatives asked for, the hint the reader took (its charset as a set:
    `digits+upper` reads as `upper+digits`) and reading by lines."""
    told = None
    if hint is not None:
        told = json.loads(json.dumps(dataclasses.asdict(hint)))
        told["charset"] = "".join(sorted(set(hint.charset)))
    return {"model": model_name(model), "top_k": top_k, "lines": lines, "hint": told}


class ResultLog:
    """A JSON Lines file of outcomes, one object per line, appended and flushed as they come.

    Opening an existing file keeps its lines, whose images it then `holds`, so a restarted run
    skips them; the errors of the images in `retry` (this run's) are dropped instead and tried
    again, since an image may have been fixed, as is the torn last line a killed run leaves. The
    file is then rewritten without them, atomically. `failed_on` tells the images recorded as
    errors. An image is known by its file, however its path was typed (`_file`).
    The reader's `settings` are written beside the file (`<file>.reader.json`), and a file of
    readings made with other settings is refused: skipping its images would give this run's
    caller another model's or hint's readings. A file without them (written before ocrlab kept
    them) is taken, and so is one that holds no reading yet.
    """

    def __init__(self, path: Path, settings: Settings, retry: Collection[str] = ()) -> None:
        self.path, self._done, self._failed = path, set[str](), set[str]()
        side = path.with_name(path.name + ".reader.json")
        known = False  # whether side holds the settings of rows in path
        if path.is_file():
            lines = path.read_bytes().splitlines(keepends=True)
            rows = [(line, _row(line, path)) for line in lines if line.endswith(b"\n")]
            known = bool(rows) and side.is_file()
            if known:
                _same(path, side, settings)
            again = {_file(image) for image in retry}
            kept = [(line, row) for line, row in rows
                    if "error" not in row or _file(row["image"]) not in again]  # fmt: skip
            self._done = {_file(row["image"]) for _, row in kept}
            self._failed = {_file(row["image"]) for _, row in kept if "error" in row}
            if len(kept) < len(lines):
                atomic_write_bytes(path, b"".join(line for line, _ in kept))
        try:
            self._fh: IO[str] = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        if not known:
            try:
                atomic_write_bytes(side, json.dumps(settings, indent=1).encode() + b"\n")
            except OSError as exc:
                self._fh.close()
                raise _cannot_write(side, exc) from None

    def holds(self, image: str) -> bool:
        """Whether the file has an outcome for `image`."""
        return _file(image) in self._done

    def failed_on(self, image: str) -> bool:
        """Whether the file's outcome for `image` is an error."""
        return _file(image) in self._failed

    def write(self, outcome: Outcome) -> None:
        self.write_row(outcome.to_dict())

    def write_row(self, row: dict[str, Any]) -> None:
        """Append an outcome that is already a dict (as the Ray reader's actors send them)."""
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        self._done.add(_file(row["image"]))
        if "error" in row:
            self._failed.add(_file(row["image"]))

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ResultLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _file(image: str) -> str:
    """One name for an image's file, however its path was typed (`scans/a.png`, `./scans/a.png`,
    `$PWD/scans/a.png`), so a rerun with the folder named otherwise skips what it read."""
    return os.path.realpath(image)


def _cannot_write(path: Path, exc: OSError) -> DatasetError:
    return DatasetError(f"cannot write {path}: {exc.strerror or exc}")


def _same(path: Path, side: Path, settings: Settings) -> None:
    """Refuse to add to `path` if its readings, per `side`, were made with other settings."""
    try:
        before = json.loads(side.read_bytes())
    except ValueError:
        before = None
    if not isinstance(before, dict):
        raise DatasetError(f"{side} is not a reader's settings; delete it")
    changed = sorted(k for k in {*before, *settings} if before.get(k) != settings.get(k))
    if changed:
        was = ", ".join(_as_flags(k, before.get(k)) for k in changed)
        now = ", ".join(_as_flags(k, settings.get(k)) for k in changed)
        raise DatasetError(
            f"{path} holds readings made with {was}; this run reads with {now}: give another "
            f"output file, or delete {path.name} and {side.name} to read every image again"
        )


def _as_flags(key: str, value: Any) -> str:
    """A reader setting as the flags of `ocrlab read` that give it, so a refusal says which."""
    if key == "model":
        return f"--model {value}"
    if key == "top_k":
        return f"--top-k {value}"
    if key == "lines":
        return "--lines" if value else "no --lines"
    if key == "hint" and (value is None or isinstance(value, dict)):
        told = value or {}
        lengths = told.get("lengths")
        flags = [
            f"--charset {shlex.quote(told['charset'])}" if told.get("charset") else "",
            f"--length {'-'.join(map(str, dict.fromkeys(lengths)))}" if lengths else "",
            "--thorough" if told.get("thorough") else "",
            "--no-colour" if told.get("colour") is False else "",
        ]
        return " ".join(f for f in flags if f) or "no --charset, --length, --thorough, --no-colour"
    return f"{key} {json.dumps(value)}"


def _row(line: bytes, path: Path) -> dict[str, Any]:
    """One complete line of a results file, checked to name its image."""
    try:
        row = json.loads(line)
    except ValueError:
        row = None
    if not isinstance(row, dict) or not isinstance(row.get("image"), str):
        raise DatasetError(f"{path} is not a results file of ocrlab (a line without an image)")
    return row
