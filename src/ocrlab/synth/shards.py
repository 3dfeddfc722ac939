"""One dataset generated on many machines: the plan cut into units that render anywhere.

A unit is `shard_size` consecutive images of the plan (with the packed format, exactly one shard).
Every sample is a pure function of (seed, id), so a unit renders to the same bytes wherever it
runs; `render_unit` writes its files atomically into a dataset folder and returns its manifest
rows. Two drivers use it. `generate_part` (`ocrlab generate --shard K/N`, for any scheduler: a
Slurm array, a Kubernetes indexed job) renders units K, K+N, K+2N, ... into a part folder, and
`merge` (`ocrlab data merge`) joins the N parts into the folder one process would have written,
byte for byte, manifest last. The Ray engine (`ray_engine`) runs the units as Ray tasks into one
folder. NumPy and Pillow only.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ocrlab.config import from_dict
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.manifest import MANIFEST, Row, read_manifest, write_manifest
from ocrlab.data.packed import SHARD_DIR, shard_path, shard_ref, write_shard
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.synth.generate import (
    CONFIG,
    MARKER,
    PREVIEW_FILE,
    _prepare,
    _row,
    image_path,
    render_ids,
    write_preview,
)
from ocrlab.synth.plan import GenerateConfig, Plan, dataset_json, make_plan

PART, ROWS = "part.json", "rows.csv"
Progress = Callable[[int], None]


def unit_count(plan: Plan) -> int:
    return -(-len(plan.ids) // plan.config.shard_size)


def unit_ids(plan: Plan, unit: int) -> np.ndarray:
    size = plan.config.shard_size
    return plan.ids[unit * size : (unit + 1) * size]


def _paths(plan: Plan, unit: int, ids: np.ndarray) -> list[str]:
    if plan.config.format == "packed":
        return [shard_ref(unit, k) for k in range(len(ids))]
    return [image_path(i) for i in ids.tolist()]


def unit_done(out: Path, plan: Plan, unit: int) -> bool:
    """Whether every file of `unit` is already in `out` (each was written whole, atomically)."""
    if plan.config.format == "packed":
        return shard_path(out, unit).is_file()
    return all((out / image_path(i)).is_file() for i in unit_ids(plan, unit).tolist())


def unit_rows(plan: Plan, unit: int) -> list[Row]:
    """The manifest rows of a unit, without drawing it."""
    ids = unit_ids(plan, unit)
    samples = [plan.describe(i) for i in ids.tolist()]
    return [_row(plan, s, p) for s, p in zip(samples, _paths(plan, unit, ids), strict=True)]


def render_unit(plan: Plan, out: Path, unit: int, ids: np.ndarray | None = None) -> list[Row]:
    """Render unit `unit` of `plan` into dataset folder `out`; returns its manifest rows. `ids`
    are the unit's ids when `plan` travelled without its id list (to a Ray worker)."""
    ids = unit_ids(plan, unit) if ids is None else ids
    samples, payload = render_ids(plan, ids)
    if plan.config.format == "packed":
        write_shard(out, unit, np.stack(payload))
    else:
        for sample, data in zip(samples, payload, strict=True):
            assert isinstance(data, bytes)
            atomic_write_bytes(out / image_path(sample.id), data)
    return [_row(plan, s, p) for s, p in zip(samples, _paths(plan, unit, ids), strict=True)]


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` → (K, N): part K (counted from 0) of N."""
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ConfigError(f"--shard takes K/N, e.g. 0/4, got {text!r}") from None
    if not 0 <= k < n:
        raise ConfigError(f"--shard {text}: need 0 ≤ K < N")
    return k, n


def part_size(plan: Plan, shard: tuple[int, int]) -> int:
    """How many images part K of N holds."""
    k, n = shard
    return sum(len(unit_ids(plan, u)) for u in range(k, unit_count(plan), n))


def generate_part(
    config: GenerateConfig | Plan,
    out: Path,
    shard: tuple[int, int],
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Render part K of N of the dataset `config` describes (or the plan made from it, once)
    into the part folder `out`."""
    k, n = shard
    plan = config if isinstance(config, Plan) else make_plan(config)
    if resume and (out / PART).is_file() and not (out / MARKER).exists():
        _check_part(out, plan, shard)
        return out  # finished before: a restarted job has nothing left to do
    _prepare(out, plan, resume, overwrite)
    units = list(range(k, unit_count(plan), n))
    rows: list[Row] = []
    for unit in units:
        done = resume and unit_done(out, plan, unit)
        rows += unit_rows(plan, unit) if done else render_unit(plan, out, unit)
        if progress is not None:
            progress(len(unit_ids(plan, unit)))
    write_manifest(out / ROWS, rows)
    part = {"shard": k, "of": n, "units": units}
    atomic_write_bytes(out / PART, (json.dumps(part) + "\n").encode())
    (out / MARKER).unlink()
    return out


def _check_part(out: Path, plan: Plan, shard: tuple[int, int]) -> None:
    text, part, _ = _read_part(out)
    if (
        text != json.dumps(dataset_json(plan), indent=1) + "\n"
        or (part["shard"], part["of"]) != shard
    ):
        raise DatasetError(f"cannot resume {out}: it is another part or another dataset")


def merge(parts: Sequence[Path], out: Path, *, overwrite: bool = False) -> Path:
    """Join the part folders of one dataset into `out`: the dataset one process would write."""
    infos = [_read_part(p) for p in parts]
    configs = {text for text, _, _ in infos}
    if len(configs) != 1:
        raise DatasetError("these part folders belong to different datasets (config.json differs)")
    counts = {part["of"] for _, part, _ in infos}
    found = sorted(part["shard"] for _, part, _ in infos)
    if len(counts) != 1 or found != list(range(counts.pop())):
        raise DatasetError(f"need every part K/N exactly once; got parts {found}")
    text = configs.pop()
    plan = make_plan(from_dict(GenerateConfig, json.loads(text)["config"]))
    if json.dumps(dataset_json(plan), indent=1) + "\n" != text:
        raise DatasetError("this machine resolves the parts' config differently (fonts, words)")
    _prepare(out, plan, resume=False, overwrite=overwrite)
    by_unit: dict[int, list[Row]] = {}
    for (_, part, rows), folder in zip(infos, parts, strict=True):
        for unit in part["units"]:
            size = len(unit_ids(plan, unit))
            by_unit[unit], rows = rows[:size], rows[size:]
        _link_tree(folder, out, plan)
    write_preview(out / PREVIEW_FILE, plan)
    write_manifest(out / MANIFEST, [r for u in sorted(by_unit) for r in by_unit[u]])
    (out / MARKER).unlink()
    return out


def _read_part(folder: Path) -> tuple[str, dict[str, Any], list[Row]]:
    if (folder / MARKER).exists() or not (folder / PART).is_file():
        raise DatasetError(f"{folder} is not a finished part (run `ocrlab generate --shard K/N`)")
    try:
        text = (folder / CONFIG).read_text(encoding="utf-8")
        part = json.loads((folder / PART).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read part {folder}: {exc}") from None
    return text, part, read_manifest(folder / ROWS)


def _link_tree(src: Path, dst: Path, plan: Plan) -> None:
    """Hard-link (copy across filesystems) the part's images; files are never changed in place."""
    sub = SHARD_DIR if plan.config.format == "packed" else "images"
    for path in sorted((src / sub).iterdir()):
        if path.name.startswith("."):
            continue  # a temporary file of a killed run
        try:
            os.link(path, dst / sub / path.name)
        except OSError:
            shutil.copyfile(path, dst / sub / path.name)
