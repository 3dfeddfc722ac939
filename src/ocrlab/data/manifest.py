"""The manifest: one CSV row per image, the single source of truth for labels.

Labels live here and not only in file names, so no loading order (parallel or not) can detach an
image from its label: a reader joins on the row, never on position in a directory listing. Written
atomically. Imports the standard library only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import DatasetError

MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class Row:
    """One image: where it is, the word (label source), its class, and how it was drawn."""

    path: str
    word: str
    label: int
    text: str
    font: str
    background: str
    noise: float
    colour: str


COLUMNS = tuple(f.name for f in fields(Row))


def write_manifest(path: Path, rows: Sequence[Row]) -> None:
    """Write rows in order as CSV with a header, atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(r) for r in rows)
    atomic_write_bytes(path, buf.getvalue().encode("utf-8"))


def read_manifest(path: Path) -> list[Row]:
    """Read and validate a manifest written by `write_manifest`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read manifest {path}: {exc}") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise DatasetError(f"{path} is not an ocrlab manifest: header {header} != {list(COLUMNS)}")
    rows = []
    for n, rec in enumerate(reader, start=2):
        try:
            path_, word, label, text_, font, bg, noise, colour = rec
            rows.append(Row(path_, word, int(label), text_, font, bg, float(noise), colour))
        except ValueError:
            raise DatasetError(f"{path}, line {n}: malformed row {rec}") from None
    return rows
