"""Read many images and keep going: one unreadable image is one error, never the whole batch.

Someone reading 100,000 scraped CAPTCHAs must not lose the run to one truncated file. `read_each`
reads images in chunks (so a model still sees batches) and, when a chunk holds an image the reader
refuses (`UserError`), reads its halves again the same way down to single images, so each image
gets its own `Outcome`: a reading or the one-sentence error. `strict` stops at the first error.
`ResultLog` streams outcomes to a JSON Lines file as they come and tells a restarted run which
images are already there. Bugs (anything but `UserError`) still stop the run. Imports the standard
library and `ocrlab.errors` only; the reader is passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ocrlab.errors import DatasetError, UserError

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
        else:
            yield from _read_split(read, part)


def _read_split(read: ReadFn, part: list[str]) -> Iterator[Outcome]:
    """Read `part` as one batch; if an image in it is refused, read each half the same way, so
    one bad image costs about log2(len(part)) smaller batches, not len(part) single reads."""
    try:
        readings = read(_paths(part))
    except UserError as exc:
        if len(part) == 1:
            yield Outcome(part[0], error=str(exc))
            return
        half = len(part) // 2
        yield from _read_split(read, part[:half])
        yield from _read_split(read, part[half:])
        return
    yield from (Outcome(p, r) for p, r in zip(part, readings, strict=True))


def _paths(images: list[str]) -> list[Path]:
    return [Path(p) for p in images]


def error_line(outcome: Outcome) -> str:
    """The stderr line for a failed image; names the image when the error does not."""
    error = outcome.error or ""
    return f"ocrlab: error: {error if outcome.image in error else f'{outcome.image}: {error}'}"


class ResultLog:
    """A JSON Lines file of outcomes, one object per line, appended and flushed as they come.

    Opening an existing file keeps its complete lines (a run killed mid-line leaves a torn last
    line, which is cut off) and `done` holds their images, so a restarted run skips them;
    `failed` holds those recorded as errors.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.done, self.failed = path, set[str](), set[str]()
        kept = 0
        if path.is_file():
            data = path.read_bytes()
            for line in data.splitlines(keepends=True):
                if not line.endswith(b"\n"):
                    break  # the torn line of a killed run
                image, failed = _image_of(line, path)
                self.done.add(image)
                if failed:
                    self.failed.add(image)
                kept += len(line)
        try:
            self._fh: IO[str] = path.open("a+", encoding="utf-8")
            self._fh.truncate(kept)
        except OSError as exc:
            raise DatasetError(f"cannot write {path}: {exc.strerror or exc}") from None

    def write(self, outcome: Outcome) -> None:
        self.write_row(outcome.to_dict())

    def write_row(self, row: dict[str, Any]) -> None:
        """Append an outcome that is already a dict (as the Ray reader's actors send them)."""
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        self.done.add(row["image"])
        if "error" in row:
            self.failed.add(row["image"])

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ResultLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _image_of(line: bytes, path: Path) -> tuple[str, bool]:
    """(image, whether it failed) of one complete line of a results file."""
    try:
        row = json.loads(line)
        image = row["image"]
    except (ValueError, KeyError, TypeError):
        image = None
    if not isinstance(image, str):
        raise DatasetError(f"{path} is not a results file of ocrlab (a line without an image)")
    return image, "error" in row
