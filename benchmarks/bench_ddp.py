"""Data-parallel training: time per image of one process against N ranks under torchrun.

Both train the quick classifier preset's model (half-width ResNet18 at 24x168) on the same random
images with the same global batch, through the engine (`train_one_epoch`; under torchrun the
`ocrlab.train.dist` group: DDP, BatchNorm over the global batch). Three runs: one process on
every core, one process on cores / N threads, and N ranks on cores / N threads each (as torchrun
sets them). Each is timed on its second epoch, the three alternating twice so machine load hits
them alike; the faster of the two counts. The load average is recorded: on a shared machine,
one process's threads wait for each other when other jobs take the cores.

    python benchmarks/bench_ddp.py [--nproc 2] [--images 2048] [--batch 64]
    python benchmarks/bench_ddp.py --device cuda --nproc 8   # a machine with 8 GPUs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import report

SIZE = (24, 168)


def worker(args: argparse.Namespace) -> None:
    """One process of a run (a rank under torchrun): two epochs, the second timed."""
    import time

    import numpy as np
    import torch

    from ocrlab.models import build
    from ocrlab.runtime.device import resolve_device
    from ocrlab.train import dist
    from ocrlab.train.batches import DeviceBatches
    from ocrlab.train.loop import ClassifierTask, train_one_epoch

    with dist.joined(resolve_device(args.device)) as device:
        group = dist.group()
        gen = np.random.default_rng(0)
        images = gen.integers(0, 256, (args.images, *SIZE, 3), dtype=np.uint8)
        labels = gen.integers(0, 100, args.images)
        torch.manual_seed(0)
        model = build("resnet18", num_classes=100, in_channels=3, width=32, dropout=0.2).to(device)
        batches = DeviceBatches(
            images, labels, args.batch, device, shuffle=True, channels_last=device.type == "cuda",
            rank=group.rank, world=group.world,
        )  # fmt: skip
        task = dist.distribute(model, ClassifierTask(), device)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        seconds = 0.0
        for epoch in (1, 2):
            batches.epoch = epoch
            start = time.perf_counter()
            train_one_epoch(model, batches, task, opt, None, amp=device.type == "cuda")
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
        if group.is_main:
            Path(args.result).write_text(
                json.dumps({"seconds": seconds, "threads": torch.get_num_threads()})
            )


def run(nproc: int, threads: int, args: argparse.Namespace, result: Path) -> dict[str, float]:
    flags = ["--worker", "--result", str(result), "--images", str(args.images),
             "--batch", str(args.batch), "--device", args.device]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    if nproc == 1:
        cmd = [sys.executable, __file__, *flags]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc),
               __file__, *flags]  # fmt: skip
    subprocess.run(cmd, check=True, env=env)
    return json.loads(result.read_text())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=64, help="global batch")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    cores = os.cpu_count() or 1
    runs = {"one": (1, cores), "one_1_thread": (1, max(1, cores // args.nproc)),
            "ranks": (args.nproc, max(1, cores // args.nproc))}  # fmt: skip
    load_before = os.getloadavg()[0]
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(2):
            for name, (n, threads) in runs.items():
                seconds = run(n, threads, args, Path(tmp) / f"{name}.json")["seconds"]
                best[name] = min(seconds, best.get(name, seconds))
    per_image = {k: round(1000 * v / args.images, 3) for k, v in best.items()}
    report(
        "ddp",
        {
            "images": args.images,
            "global_batch": args.batch,
            "input": list(SIZE),
            "device": args.device,
            "ranks": args.nproc,
            "threads": {k: t for k, (_, t) in runs.items()},
            "ms_per_image": per_image,
            "speedup_vs_one": round(best["one"] / best["ranks"], 2),
            "speedup_vs_one_at_same_threads": round(best["one_1_thread"] / best["ranks"], 2),
            "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        packages=("torch",),
    )


if __name__ == "__main__":
    main()
