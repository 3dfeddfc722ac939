"""What every benchmark prints and saves: the machine, versions, the command, and the figures."""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine(packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """Machine, Python and package versions, and the command line that produced the figures."""
    versions = {}
    for name in ("ocrlab", "numpy", "pillow", *packages):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def report(name: str, figures: dict[str, Any], packages: tuple[str, ...] = ()) -> Path:
    """Print the figures with their context and write `results/<name>.json`."""
    record = {**machine(packages), **figures}
    print(json.dumps(record, indent=1))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path
