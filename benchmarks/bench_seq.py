"""Sequence recogniser, `--preset quick`: exact match on unseen hard-set words, and wall time.

Generates (once, cached) a hard set of English words (8,000 words × 5 images, packed), trains the
quick preset on a split by word (no test word is in training) and prints exact match and wall time
with the machine (target: >= 90 % exact in <= 20 minutes on 2 cores).

    python benchmarks/bench_seq.py [--words 8000] [--images 40000] [--epochs E] [--device auto]
    python benchmarks/bench_seq.py --step-time   # ms per training step, float32 vs bf16 autocast
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


def step_time(preset: str, repeats: int = 5) -> None:
    """Milliseconds per training step of the preset's model on one batch, float32 against bf16
    autocast, alternating so machine load affects both alike."""
    from ocrlab.models import build
    from ocrlab.train.loop import native_cpu_bf16
    from ocrlab.train.sequence import SequenceTask

    cfg = SEQ_PRESETS[preset]
    h, w = cfg.input_height or 32, cfg.input_width or 224
    torch.manual_seed(0)
    model = build(
        "seq2seq", vocab_size=56, max_len=20, input_size=[h, w], channels=list(cfg.channels),
        d_model=cfg.d_model, heads=cfg.heads, layers=cfg.layers, ff=cfg.ff,
    )  # fmt: skip
    task, opt = SequenceTask(0.0, cfg.ctc_weight), torch.optim.AdamW(model.parameters())
    x = torch.randn(cfg.train.batch_size, 3, h, w)
    y = torch.randint(4, 56, (cfg.train.batch_size, 22))

    def step(bf16: bool) -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = task.loss(model, x, y)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
        return time.perf_counter() - start

    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(2 * repeats + 2):
        bf16 = bool(i % 2)
        t = step(bf16)
        if i >= 2:  # the first of each is warm-up
            times[bf16].append(t)
    fp32, bf16 = (1000 * sorted(times[k])[repeats // 2] for k in (False, True))
    report(
        f"seq_step_{preset}",
        {
            "preset": preset,
            "batch": cfg.train.batch_size,
            "input": [h, w],
            "torch_threads": torch.get_num_threads(),
            "native_cpu_bf16": native_cpu_bf16(),
            "fp32_ms_per_step": round(fp32, 1),
            "bf16_ms_per_step": round(bf16, 1),
            "speedup": round(fp32 / bf16, 2),
        },
        packages=("torch",),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=8_000)
    parser.add_argument("--images", type=int, default=40_000)
    parser.add_argument("--preset", default="quick", choices=sorted(SEQ_PRESETS))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--step-time", action="store_true", help="time training steps only")
    args = parser.parse_args()
    if args.step_time:
        step_time(args.preset)
        return

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
