"""What every benchmark prints and saves: the machine, threads, versions, the command, the figures.

Results go to `results/<name>.json` (or `$OCRLAB_BENCH_RESULTS/<name>.json`, so trial runs do not
overwrite the committed figures); `report.py` builds docs/benchmarks.md from them alone. Standard
library only, so a benchmark can set its thread variables before NumPy or torch are imported.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("OCRLAB_BENCH_RESULTS", ROOT / "benchmarks" / "results"))
SCHEMA = 2
"""Bumped when the layout of the JSON changes; report.py refuses older files by name."""
_START = time.monotonic()


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (platform.processor() is empty on most Linux builds)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command() -> str:
    """The command line, the script relative to the repository so it reads the same anywhere."""
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    return " ".join(["python", str(shown), *sys.argv[1:]])


def machine(packages: tuple[str, ...] = (), threads: int | None = None) -> dict[str, Any]:
    """Machine, threads, Python and package versions, and the command that produced the figures."""
    versions = {}
    for name in ("ocrlab", "numpy", "pillow", *packages):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "schema": SCHEMA,
        "machine": f"{cpu_name()}, {platform.machine()}",
        "cpus": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "versions": versions,
        "command": command(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def report(
    name: str, figures: dict[str, Any], packages: tuple[str, ...] = (), threads: int | None = None
) -> Path:
    """Print the figures with their context and write `<results>/<name>.json` (atomically)."""
    record = {
        **machine(packages, threads),
        "wall_s": round(time.monotonic() - _START, 1),
        **figures,
    }
    text = json.dumps(record, indent=1) + "\n"
    print(text, end="")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
