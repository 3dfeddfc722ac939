"""Epoch time of `ocrlab.scratch.MLPClassifier` against an identical PyTorch MLP on the CPU.

Both train the same layer sizes with the same batch size, SGD with momentum (lr 0.1, 0.9) and
softmax cross-entropy on the same random data (rows × 784 in [0, 1], 26 classes), with one shuffle
and one gather per batch, on the same number of BLAS threads. The figure is the median epoch time
after a warm-up epoch; the target is a ratio (NumPy / torch) of at most 1.2. Prints the machine,
versions and figures, and writes results/mlp.json. Both sides run in this one process, so load on
the machine slows both and the ratio stays meaningful.

    python benchmarks/bench_mlp.py --rows 20000 --hidden 512 256 128 --batch 256 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from _common import report

CLASSES = 26
FEATURES = 784


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--hidden", type=int, nargs="*", default=[512, 256, 128])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs after one warm-up")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--activations", nargs="+", default=["relu", "tanhexp"])
    return parser.parse_args(argv)


def time_numpy(data: Any, labels: Any, args: argparse.Namespace, activation: str) -> list[float]:
    from ocrlab.scratch import MLPClassifier

    model = MLPClassifier(
        hidden=tuple(args.hidden),
        activation=activation,  # type: ignore[arg-type]
        batch_size=args.batch,
        epochs=args.epochs + 1,
        early_stopping=False,
    )
    model.fit(data, labels)
    return [row.seconds for row in model.history_]


def time_torch(data: Any, labels: Any, args: argparse.Namespace, activation: str) -> list[float]:
    import torch
    from torch import nn

    class TanhExp(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * torch.tanh(torch.exp(x))

    acts = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
            "swish": nn.SiLU, "mish": nn.Mish, "tanhexp": TanhExp}  # fmt: skip
    sizes = [FEATURES, *args.hidden, CLASSES]
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        if i:
            layers.append(acts[activation]())
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
    model = nn.Sequential(*layers)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.from_numpy(data), torch.from_numpy(labels)
    generator = torch.Generator().manual_seed(0)
    seconds = []
    for _ in range(args.epochs + 1):
        started = time.perf_counter()
        order = torch.randperm(x.shape[0], generator=generator)
        for start in range(0, x.shape[0], args.batch):
            idx = order[start : start + args.batch]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimiser.zero_grad(set_to_none=False)
            loss.backward()
            optimiser.step()
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # BLAS reads its thread count when NumPy is first imported, so set it before any import.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    rng = np.random.Generator(np.random.PCG64(0))
    data = rng.random((args.rows, FEATURES), dtype=np.float32)
    labels = rng.integers(0, CLASSES, size=args.rows).astype(np.int64)
    runs = []
    for activation in args.activations:
        numpy_s = statistics.median(time_numpy(data, labels, args, activation)[1:])
        torch_s = statistics.median(time_torch(data, labels, args, activation)[1:])
        runs.append(
            {
                "activation": activation,
                "numpy_epoch_s": round(numpy_s, 4),
                "torch_epoch_s": round(torch_s, 4),
                "ratio": round(numpy_s / torch_s, 3),
            }
        )
    figures = {
        "rows": args.rows,
        "hidden": args.hidden,
        "batch": args.batch,
        "timed_epochs": args.epochs,
        "runs": runs,
    }
    report("mlp", figures, packages=("torch",), threads=args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
