"""`ocrlab generate --engine ray`: the plan's units as Ray tasks, on one machine or a cluster.

The driver makes the plan once and prepares the folder as `generate` does; the plan goes into
Ray's object store once (without its id list), and each task renders one unit (its ids given,
`shards.render_unit`) straight into the output folder, which on a cluster must be a path every
node sees (a shared filesystem), and returns the unit's manifest rows. The driver writes
the preview and, last and atomically, the manifest in plan order, so the folder is byte-identical
to `ocrlab generate --workers 1` with the same seed. Ray is imported here only, when asked for
(`pip install 'ocrlab[distributed]'`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ocrlab.data.manifest import MANIFEST, Row, write_manifest
from ocrlab.errors import ConfigError
from ocrlab.synth.generate import MARKER, PREVIEW_FILE, _for_workers, _prepare, write_preview
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


_kept: tuple[str, Plan] | None = None
"""The plan a worker process last rendered, by its object id: Ray reuses a worker for many
tasks, and the kept plan's textures are made once."""


def _render(plan: Plan, key: str, out: str, unit: int, ids: np.ndarray) -> list[Row]:
    global _kept
    if _kept is None or _kept[0] != key:
        _kept = (key, plan)
    return render_unit(_kept[1], Path(out), unit, ids)


def generate_ray(
    config: GenerateConfig | Plan,
    out: Path,
    *,
    address: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Render the dataset `config` describes (or the plan made from it, once) into `out` with
    Ray tasks; returns `out`."""
    ray = import_ray()
    plan = config if isinstance(config, Plan) else make_plan(config)
    created = _prepare(out, plan, resume, overwrite)
    connected = connect(ray, address)
    task: Any = ray.remote(_render)
    shared = ray.put(_for_workers(plan))
    pending: dict[Any, int] = {}
    try:
        rows: dict[int, list[Row]] = {}
        for unit in range(unit_count(plan)):
            if resume and unit_done(out, plan, unit):
                rows[unit] = unit_rows(plan, unit)
            else:
                ids = unit_ids(plan, unit)
                pending[task.remote(shared, shared.hex(), str(out.resolve()), unit, ids)] = unit
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
