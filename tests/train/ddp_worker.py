"""One rank of a tiny training group, started by test_dist.py the way torchrun starts a rank.

`python ddp_worker.py RUN RECORD MODE`: trains the tiny classifier of `tiny_run` into RUN with the
engine's `fit` (the environment holds RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and writes to
RECORD the files this rank wrote under RUN, seen through an audit hook. MODE `die` makes rank 1
raise in its second epoch; `main_fails` makes rank 0's part of a step fail with an OSError;
`resume` continues RUN. Exits 2 with the error's sentence on a `UserError`, as the CLI does,
at once where the group lost a peer.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ocrlab.errors import UserError
from ocrlab.models import build
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.train import dist
from ocrlab.train.batches import DeviceBatches
from ocrlab.train.loop import ClassifierTask, Run, TrainConfig, fit

CFG = TrainConfig(epochs=1, batch_size=8, lr=0.05, optimizer="sgd", schedule="constant",
                  augment=True, seed=3, device="cpu")  # fmt: skip


def tiny_run(folder: Path, cfg: TrainConfig) -> tuple[Run, DeviceBatches, DeviceBatches]:
    """A width-4 ResNet (BatchNorm, no dropout) on 13 training and 6 test images of 4 classes;
    13 in batches of 8 gives a last batch of 5 that splits unevenly (3 + 2) over two ranks."""
    gen = np.random.default_rng(0)
    images = gen.integers(0, 256, (19, 16, 24, 3), dtype=np.uint8)
    labels = gen.integers(0, 4, 19)
    torch.manual_seed(0)
    model = build("resnet18", num_classes=4, in_channels=3, width=4, dropout=0.0)
    cpu = torch.device("cpu")
    train = DeviceBatches(images, labels, cfg.batch_size, cpu, shuffle=True, seed=cfg.seed,
                          augment=cfg.augment, rows=np.arange(13))  # fmt: skip
    test = DeviceBatches(images, labels, cfg.batch_size, cpu, rows=np.arange(13, 19))
    ckpt = Checkpoint("classifier", "resnet18", {}, (16, 24), 3, classes=list("abcd"))
    return Run(folder, model, ckpt), train, test


class DyingTask(ClassifierTask):
    """Rank 1 raises in its second epoch, as a rank that runs out of memory would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def loss(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, int, int]:
        self.calls += model.training
        if dist.group().rank == 1 and self.calls > 2:
            raise RuntimeError("rank 1 fell over")
        return super().loss(model, x, y)


def main(folder: Path, record: Path, mode: str) -> int:
    writes: list[str] = []

    def audit(event: str, args: tuple[Any, ...]) -> None:
        created = event == "open" and (
            "w" in str(args[1] or "") or (isinstance(args[2], int) and args[2] & os.O_CREAT)
        )
        if created or event == "os.rename":
            path = str(args[1] if event == "os.rename" else args[0])
            if path.startswith(str(folder)):
                writes.append(path)

    sys.addaudithook(audit)
    cfg = CFG if mode == "fit" else TrainConfig(**{**CFG.__dict__, "epochs": 3})
    run, train, test = tiny_run(folder, cfg)
    task = DyingTask() if mode == "die" else ClassifierTask()
    try:
        with dist.joined(torch.device("cpu")):
            if mode == "main_fails":  # rank 0's own step fails, not with a UserError
                dist.on_main(lambda: (folder / "missing" / "file").read_bytes())
            fit(run, train, test, task, cfg, resume=mode == "resume")
    except UserError as exc:
        print(f"ocrlab: error: {exc}", file=sys.stderr)
        return 2
    finally:
        record.write_text(json.dumps(writes))
    return 0


if __name__ == "__main__":
    status = main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
    dist.leave(status)  # as the CLI leaves a group whose peer died
    sys.exit(status)
