"""The one training skeleton: load → prepare the run folder → split → build → batches → fit.

Every torch trainer (word classifier, sequence model, letters CNN) is a `Job` that supplies its
steps; `run_job` runs them in this order, so checking the run folder, seeding, choosing the device
and fitting are written once. The run folder's rules are `ocrlab.train.run_folder.prepare_run`.
Under torchrun every rank runs the whole job (`ocrlab.train.dist`): rank 0 alone prepares the
folder and finishes, and every rank gets its result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from ocrlab.runtime import checkpoint
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.device import resolve_device
from ocrlab.train import dist
from ocrlab.train.batches import DeviceBatches
from ocrlab.train.loop import Callback, Run, Task, TrainConfig, fit
from ocrlab.train.run_folder import prepare_run


class Job(Protocol):
    """One trainer's steps; `data` is whatever `load` returns, `parts` whatever `split` does."""

    description: dict[str, Any]
    """What the run folder's config.json records (a resume must match it)."""
    train: TrainConfig
    task: Task

    def load(self) -> Any: ...

    def split(self, data: Any) -> Any: ...

    def build(self, data: Any, parts: Any) -> tuple[nn.Module, Checkpoint]: ...

    def batches(
        self, data: Any, parts: Any, device: torch.device
    ) -> tuple[DeviceBatches, DeviceBatches]: ...

    def finish(self, run: Run, data: Any, parts: Any, history: list[dict[str, float]]) -> Any:
        """What the trainer returns once fitted (usually the checkpoint's metrics)."""
        ...


def run_job(
    job: Job,
    out: Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callback: Callback | None = None,
) -> Any:
    """Train `job` into run folder `out`; returns `job.finish(...)`."""
    data = job.load()
    with dist.joined(resolve_device(job.train.device)) as device:  # a torchrun group if any
        dist.on_main(lambda: prepare_run(out, job.description, resume, overwrite))
        parts = job.split(data)
        torch.manual_seed(job.train.seed)
        model, ckpt = job.build(data, parts)
        train, test = job.batches(data, parts, device)
        run = Run(out, model, ckpt)
        history = fit(run, train, test, job.task, job.train, resume=resume, callback=callback)
        return dist.on_main(lambda: job.finish(run, data, parts, history))


def metrics(out: Path) -> dict[str, Any]:
    """The metrics `fit` wrote into the checkpoint: what most trainers return."""
    return checkpoint.load_checkpoint(out).metrics
