"""What `read` and `predict` share about many images: `--strict`, `--out FILE.jsonl`, exit 1.

An unreadable image is one line on stderr (or `{"image", "error"}` in `--json` and `--out`) and
every other image is still read; the exit status is 1 when any image failed, 0 when none did (2
stays for usage errors). `--strict` stops at the first bad image instead (exit 2). `--out` streams
one JSON line per image as it is read (a progress bar on a terminal) and skips the images already
in the file, so an interrupted run resumes (with the same model, options and hint only). The
reading itself is `ocrlab.read.batch`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _progress_bar
from ocrlab.data.sources import all_images
from ocrlab.read.batch import ReadFn, ResultLog, Settings, error_line, read_each

Show = Callable[[str, Any], None]
"""Print one reading as text: (image as given, reading)."""


def add_batch_flags(p: Any) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first unreadable image (exit 2) instead of reporting it and going on",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE.jsonl",
        help="append one JSON line per image as it is read, skipping images already in FILE "
        "(an interrupted run resumes; FILE.jsonl.reader.json beside it records the model, "
        "--top-k, --lines and hint, and a rerun with others is refused); nothing but a "
        "progress bar (on a terminal) and a summary is printed",
    )


def run_batch(
    args: argparse.Namespace, read: ReadFn, show: Show, settings: Settings, chunk: int = 64
) -> int:
    """Read `args.images` (files, folders, manifests: `all_images`) with `read`, `chunk` at a
    time (1 for readers that take images one by one anyway), and print or log each outcome
    (`settings`: what reads, for `--out`); returns the exit status."""
    images = all_images(args.images)
    if args.out is not None:
        return _to_file(args.out, images, read, settings, args.strict, chunk)
    failed, results = 0, []
    for outcome in read_each(read, images, args.strict, chunk):
        failed += outcome.error is not None
        if outcome.error is not None:
            print(error_line(outcome), file=sys.stderr, flush=True)
        if args.json:
            results.append(outcome.to_dict())
        elif outcome.error is None:
            show(outcome.image, outcome.reading)
    if args.json:
        print(json.dumps(results, indent=1))
    return 1 if failed else 0


def _to_file(
    path: Path, images: list[str], read: ReadFn, settings: Settings, strict: bool, chunk: int
) -> int:
    """Stream outcomes to `path` (a rerun tries the images that failed again, and is refused
    with other `settings`); exit 1 when any of `images` failed."""
    with ResultLog(path, settings, images) as log:
        todo = [p for p in images if not log.holds(p)]
        with _progress_bar(len(todo), f"read → {path}") as bar:
            for outcome in read_each(read, todo, strict, chunk):
                log.write(outcome)
                bar.update(1)
                if outcome.error is not None:
                    bar.write(error_line(outcome), file=sys.stderr)
        failed = len({p for p in images if log.failed_on(p)})
    print(
        f"wrote {len(todo):,} result(s) to {path}; {len(images) - len(todo):,} were already "
        f"there; {failed:,} image(s) failed",
        file=sys.stderr,
    )
    return 1 if failed else 0
