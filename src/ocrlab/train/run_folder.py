"""Run folders: one rule for every trainer, torch or NumPy. Standard library and `ocrlab.data`.

A run folder holds one run: `config.json` records what started it, so a resume continues only the
same configuration, and an overwrite replaces only an ocrlab run, never a folder of other files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import DatasetError

RUN_CONFIG = "config.json"


def prepare_run(
    out: Path, description: dict[str, Any], resume: bool, overwrite: bool, resumable: bool = True
) -> None:
    """Create or check a run folder (writing its config.json): refuse to mix runs, resume only
    the same configuration, overwrite only an ocrlab run. `resumable`: the trainer has --resume.

    Resuming removes what a killed write left (`.NAME.*.tmp`); a run killed before its first
    epoch was saved starts over, which gives the same weights (the start is seeded)."""
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file, not a run folder")
    if out.exists() and any(out.iterdir()):
        if resume:
            if _read_json(out / RUN_CONFIG) != description:
                raise DatasetError(
                    f"cannot resume {out}: it was started with another configuration"
                )
            for torn in out.glob(".*.tmp"):
                torn.unlink()
            return
        if not overwrite:
            how = "--resume to continue it or --overwrite" if resumable else "--overwrite"
            raise DatasetError(f"{out} is not empty; pass {how}")
        if not (out / RUN_CONFIG).is_file():
            raise DatasetError(f"refusing to overwrite {out}: it is not an ocrlab run")
        for child in out.iterdir():
            if child.is_file():
                child.unlink()
    elif resume:
        raise DatasetError(f"cannot resume {out}: it does not exist")
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / RUN_CONFIG, (json.dumps(description, indent=1) + "\n").encode())
    except OSError as exc:
        raise DatasetError(f"cannot write to {out}: {exc.strerror or exc}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
