"""ResNet18 word classifier: test accuracy and wall time, on a hard subset or the protocol of
"Breaking CAPTCHA".

`--protocol subset` (default) generates (once, cached) a seeded 10,000-image subset of the hard set
and trains on a 90/10 split (target for `--preset quick`: >= 95 % test in <= 15 min on 2 cores).
`--protocol seed` is that of "Breaking CAPTCHA": the hard set on its two brown backgrounds (50,000
images) plus the 1,000 easy images, 90/10, 30 epochs (target for `--preset seed` on an
H100: >= 99.5 % in <= 90 s).

    python benchmarks/bench_classifier.py [--protocol subset|seed] [--images 10000]
                                          [--preset quick|seed] [--device auto] [--epochs E]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch

from _common import report
from ocrlab.config import replace
from ocrlab.data.manifest import read_manifest
from ocrlab.synth import PRESETS, generate
from ocrlab.train.classifier import PRESETS as CLASSIFIER_PRESETS
from ocrlab.train.classifier import train_classifier

CACHE = Path.home() / ".cache" / "ocrlab" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="subset", choices=["subset", "seed"])
    parser.add_argument("--images", type=int, default=10_000, help="subset protocol only")
    parser.add_argument("--preset", default="quick", choices=sorted(CLASSIFIER_PRESETS))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()

    if args.protocol == "seed":
        two = dataclasses.replace(PRESETS["hard"], backgrounds=("kraft", "wood"), format="packed")
        sets = {CACHE / "hard-seed": two, CACHE / "easy": PRESETS["easy"]}
    else:
        subset = dataclasses.replace(PRESETS["hard"], limit=args.images, format="packed")
        sets = {CACHE / f"hard-{args.images}": subset}
    for data, gen_cfg in sets.items():
        if not (data / "manifest.csv").is_file():
            generate(gen_cfg, data, workers=2, overwrite=data.exists())
    overrides: dict[str, object] = {"train.device": args.device}
    if args.epochs or args.protocol == "seed":
        overrides["train.epochs"] = args.epochs or 30
    cfg = replace(CLASSIFIER_PRESETS[args.preset], overrides)
    name = f"{args.images}" if args.protocol == "subset" else "seed-protocol"
    out = CACHE / f"classifier-{args.preset}-{name}"
    start = time.perf_counter()
    metrics = train_classifier(list(sets), out, cfg, overwrite=out.exists())
    seconds = time.perf_counter() - start
    report(
        f"classifier_{args.preset}" + ("_seed_protocol" if args.protocol == "seed" else ""),
        {
            "protocol": args.protocol,
            "images": sum(len(read_manifest(d / "manifest.csv")) for d in sets),
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
