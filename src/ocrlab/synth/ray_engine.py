"""`ocrlab generate --engine ray`: the plan's units as Ray tasks, on one machine or a cluster.

The driver resolves the plan and prepares the folder as `generate` does; each task renders one
unit (`shards.render_unit`) straight into the output folder, which on a cluster must be a path
every node sees (a shared filesystem), and returns the unit's manifest rows. The driver writes
the preview and, last and atomically, the manifest in plan order, so the folder is byte-identical
to `ocrlab generate --workers 1` with the same seed. Ray is imported here only, when asked for
(`pip install 'ocrlab[distributed]'`).
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

from ocrlab.data.manifest import MANIFEST, Row, write_manifest
from ocrlab.errors import ConfigError
from ocrlab.synth.generate import MARKER, PREVIEW_FILE, _prepare, write_preview
from ocrlab.synth.plan import GenerateConfig, Plan, make_plan
from ocrlab.synth.shards import Progress, render_unit, unit_count, unit_done, unit_ids, unit_rows


def import_ray() -> ModuleType:
    """The `ray` module, or a clear error naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'ocrlab[distributed]'") from None
    return ray


def connect(ray: ModuleType, address: str | None) -> bool:
    """Join the cluster at `address` (None: a local one on this machine's cores) unless this
    process already has; returns whether it connected, so the caller disconnects."""
    if ray.is_initialized():
        return False
    ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return True


@functools.lru_cache(maxsize=2)
def _plan(config: GenerateConfig) -> Plan:
    """One plan per worker process and config: Ray reuses workers across tasks."""
    return make_plan(config)


def _render(config: GenerateConfig, out: str, unit: int) -> list[Row]:
    return render_unit(_plan(config), Path(out), unit)


def generate_ray(
    config: GenerateConfig,
    out: Path,
    *,
    address: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Render the dataset `config` describes into `out` with Ray tasks; returns `out`."""
    ray = import_ray()
    plan = make_plan(config)
    created = _prepare(out, plan, resume, overwrite)
    connected = connect(ray, address)
    task: Any = ray.remote(_render)
    pending: dict[Any, int] = {}
    try:
        rows: dict[int, list[Row]] = {}
        for unit in range(unit_count(plan)):
            if resume and unit_done(out, plan, unit):
                rows[unit] = unit_rows(plan, unit)
            else:
                pending[task.remote(config, str(out.resolve()), unit)] = unit
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            unit = pending.pop(ready[0])
            rows[unit] = ray.get(ready[0])
            if progress is not None:
                progress(len(unit_ids(plan, unit)))
    except BaseException as exc:
        for ref in pending:
            ray.cancel(ref)
        if created and not isinstance(exc, KeyboardInterrupt):  # interrupted: --resume goes on
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        if connected:
            ray.shutdown()
    write_preview(out / PREVIEW_FILE, plan)
    write_manifest(out / MANIFEST, [r for u in sorted(rows) for r in rows[u]])
    (out / MARKER).unlink()
    return out
