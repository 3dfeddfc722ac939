"""Sequence recogniser, `--preset quick`: exact match on unseen hard-set words, and wall time.

Generates (once, cached) a hard set of English words (8,000 words × 5 images, packed), trains the
quick preset on a split by word (no test word is in training) and prints exact match and wall time
with the machine (target: >= 90 % exact in <= 20 minutes on 2 cores).

    python benchmarks/bench_seq.py [--words 8000] [--images 40000] [--epochs E] [--device auto]
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
from ocrlab.train.sequence import PRESETS as SEQ_PRESETS
from ocrlab.train.sequence import train_seq

CACHE = Path.home() / ".cache" / "ocrlab" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=8_000)
    parser.add_argument("--images", type=int, default=40_000)
    parser.add_argument("--preset", default="quick", choices=sorted(SEQ_PRESETS))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()

    data = CACHE / f"english-{args.words}-{args.images}"
    if not (data / "manifest.csv").is_file():
        cfg = dataclasses.replace(
            PRESETS["hard"], vocab="english", words=args.words, limit=args.images, format="packed"
        )
        generate(cfg, data, workers=2, overwrite=data.exists())
    overrides: dict[str, object] = {"train.device": args.device}
    if args.epochs:
        overrides["train.epochs"] = args.epochs
    cfg = replace(SEQ_PRESETS[args.preset], overrides)
    out = CACHE / f"seq-{args.preset}-{args.words}-{args.images}"
    start = time.perf_counter()
    metrics = train_seq([data], out, cfg, overwrite=out.exists())
    seconds = time.perf_counter() - start
    report(
        f"seq_{args.preset}",
        {
            "words": args.words,
            "images": args.images,
            "preset": args.preset,
            "device": args.device,
            "torch_threads": torch.get_num_threads(),
            "epochs": cfg.train.epochs,
            "exact_unseen_words": round(metrics["test_acc"], 4),
            "train_accuracy": round(metrics["train_acc"], 4),
            "wall_seconds_including_load": round(seconds, 1),
        },
        packages=("torch",),
    )


if __name__ == "__main__":
    main()
