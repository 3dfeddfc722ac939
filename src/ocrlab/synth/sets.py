"""Write a labelled image set of any image sizes: PNG files, manifest, config, preview.

The zoo and the clean-text evaluation set produce images of every shape, so they are stored as
PNG files (the packed format needs one canvas). Sample *i* is a pure function of the seed and *i*;
a process pool renders chunks and `imap` returns them in order, so any `--workers` writes the same
bytes. Files are written atomically, the manifest last. Imports NumPy and Pillow only.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.manifest import MANIFEST, Row, write_manifest
from ocrlab.errors import DatasetError
from ocrlab.synth.generate import encode_png
from ocrlab.synth.preview import save_contact_sheet

Progress = Callable[[int], None]
Render = Callable[[int], tuple[np.ndarray, Row]]
"""Sample i → (image, manifest row without its path)."""
CHUNK = 128

_render: Render | None = None


def _init(render: Render) -> None:
    global _render
    _render = render


def _chunk(ids: range) -> list[tuple[bytes, Row, np.ndarray | None]]:
    assert _render is not None
    out = []
    for i in ids:
        image, row = _render(i)
        out.append((encode_png(image), row, image if i < 24 else None))
    return out


def write_set(
    out: Path,
    render: Render,
    count: int,
    description: dict[str, Any],
    *,
    workers: int = 1,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Render `count` samples into `out`; `description["kind"]` names the set in config.json."""
    _prepare(out, str(description["kind"]), overwrite)
    chunks = [range(s, min(s + CHUNK, count)) for s in range(0, count, CHUNK)]
    pool = None
    results: Iterator[list[tuple[bytes, Row, np.ndarray | None]]]
    if workers > 1 and len(chunks) > 1:
        pool = multiprocessing.get_context("spawn").Pool(workers, _init, (render,))
        results = pool.imap(_chunk, chunks)
    else:
        _init(render)
        results = map(_chunk, chunks)
    rows, previews = [], []
    try:
        for chunk, done in zip(chunks, results, strict=True):
            for i, (png, row, image) in zip(chunk, done, strict=True):
                path = f"images/{i:07d}.png"
                atomic_write_bytes(out / path, png)
                rows.append(dataclasses.replace(row, path=path))
                if image is not None:
                    previews.append((image, row.text))
            if progress is not None:
                progress(len(chunk))
    finally:
        if pool is not None:
            pool.terminate()
    atomic_write_bytes(out / "config.json", (json.dumps(description, indent=1) + "\n").encode())
    save_contact_sheet(out / "preview.png", [p[0] for p in previews], [p[1] for p in previews])
    write_manifest(out / MANIFEST, rows)
    return out


def _prepare(out: Path, kind: str, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        config = out / "config.json"
        ours = config.is_file() and f'"kind": "{kind}"' in config.read_text(encoding="utf-8")
        if not (overwrite and ours):
            why = "pass --overwrite to replace it" if ours else f"it is not a {kind} set"
            raise DatasetError(f"{out} is not empty; {why}")
        shutil.rmtree(out)
    try:
        (out / "images").mkdir(parents=True)
    except OSError as exc:
        raise DatasetError(f"cannot write to {out}: {exc.strerror or exc}") from None
