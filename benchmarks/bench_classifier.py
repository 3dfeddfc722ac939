"""ResNet18 word classifier, `--preset quick`: test accuracy and wall time on a hard-set subset.

Generates (once, cached) a seeded 10,000-image subset of the hard set, trains the quick preset on a
90/10 split and prints accuracy, time and machine (targets: >= 95 % test in <= 15 min on 2 cores).

    python benchmarks/bench_classifier.py [--images 10000] [--preset quick] [--device auto]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch

from _common import report
from ocrlab.config import replace
from ocrlab.synth import PRESETS, generate
from ocrlab.train.classifier import PRESETS as CLASSIFIER_PRESETS
from ocrlab.train.classifier import train_classifier

CACHE = Path.home() / ".cache" / "ocrlab" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--preset", default="quick", choices=sorted(CLASSIFIER_PRESETS))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()

    data = CACHE / f"hard-{args.images}"
    if not (data / "manifest.csv").is_file():
        cfg = dataclasses.replace(PRESETS["hard"], limit=args.images, format="packed")
        generate(cfg, data, workers=2, overwrite=data.exists())
    overrides: dict[str, object] = {"train.device": args.device}
    if args.epochs:
        overrides["train.epochs"] = args.epochs
    cfg = replace(CLASSIFIER_PRESETS[args.preset], overrides)
    out = CACHE / f"classifier-{args.preset}-{args.images}"
    start = time.perf_counter()
    metrics = train_classifier([data], out, cfg, overwrite=out.exists())
    seconds = time.perf_counter() - start
    report(
        f"classifier_{args.preset}",
        {
            "images": args.images,
            "preset": args.preset,
            "device": args.device,
            "torch_threads": torch.get_num_threads(),
            "epochs": metrics["epochs"],
            "train_accuracy": round(metrics["train_acc"], 4),
            "test_accuracy": round(metrics["test_acc"], 4),
            "train_seconds": round(metrics["seconds"], 1),
            "wall_seconds_including_load": round(seconds, 1),
        },
        packages=("torch",),
    )


if __name__ == "__main__":
    main()
