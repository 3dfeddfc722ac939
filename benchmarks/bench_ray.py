"""The Ray engines on one machine: generation and batch reading against the local engines.

Generates a hard set with `--workers 2` and with `--engine ray` (a local Ray cluster on every
core), checks the folders are byte-identical and times both; then reads the set's images with the
words model in one process (`ocrlab read`'s reader) and with `ocrlab read --engine ray` (one reader
per actor), checks the texts agree and times both. Ray's start-up is part of its time, as a user
would see it.

    python benchmarks/bench_ray.py [--images 2000] [--read 400]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

from _common import report
from ocrlab.data.sources import list_images
from ocrlab.read.ray_read import read_ray
from ocrlab.read.resolve import load
from ocrlab.synth import PRESETS, generate
from ocrlab.synth.plan import make_plan
from ocrlab.synth.ray_engine import generate_ray


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--read", type=int, default=400, help="images to read")
    args = parser.parse_args()
    cfg = dataclasses.replace(PRESETS["hard"], limit=args.images, shard_size=250)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plan = make_plan(cfg)  # made once, as the CLI does; both engines render it
        start = time.perf_counter()
        local = generate(plan, root / "local", workers=2)
        local_s = time.perf_counter() - start
        start = time.perf_counter()
        via_ray = generate_ray(plan, root / "ray")
        ray_s = time.perf_counter() - start
        identical = tree(local) == tree(via_ray)

        small = generate(dataclasses.replace(cfg, limit=args.read), root / "read", workers=2)
        paths = list_images(small)
        start = time.perf_counter()
        texts = {p: r.text for p, r in zip(paths, load("default", "cpu").read(
            [Path(p) for p in paths], top_k=1), strict=True)}  # fmt: skip
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        read_ray([small], root / "pred.jsonl", batch_size=64)
        ray_read_s = time.perf_counter() - start
        lines = [json.loads(x) for x in (root / "pred.jsonl").read_text().splitlines()]
        same_texts = {x["image"]: x["text"] for x in lines} == texts
    report(
        "ray",
        {
            "generate_images": args.images,
            "generate_workers_2_s": round(local_s, 1),
            "generate_ray_s": round(ray_s, 1),
            "generate_bytes_identical": identical,
            "read_images": args.read,
            "read_one_process_s": round(read_s, 1),
            "read_ray_s": round(ray_read_s, 1),
            "read_same_texts": same_texts,
            "load_average_after": round(os.getloadavg()[0], 2),
        },
        packages=("ray", "torch"),
    )


if __name__ == "__main__":
    main()
