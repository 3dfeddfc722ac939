"""`ocrlab train general`: the general reader, CRNN-CTC on an endless stream of zoo images.

It owns the subcommand's flags and handler: the architectures, the schedule, the font sources and
`--resume`. Progress goes to the terminal and to `log.jsonl` in the run folder.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ocrlab.cli._common import _add_config, _flag_overrides, _positive


def cmd_train_general(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.train.general import GeneralConfig, train_general

    names = {k: k for k in ("steps", "batch_size", "minutes", "seed", "device", "init", "workers")}
    overrides = _flag_overrides(args, names)
    overrides["archs"] = tuple(args.arch)
    if args.fonts:
        overrides["fonts"] = tuple(args.fonts)
    cfg = replace(GeneralConfig(), overrides)

    def show(record: dict[str, Any]) -> None:
        val = record["val"]
        scores = "  ".join(
            f"{arch}: " + " ".join(f"{k}={100 * v:.0f}" for k, v in fams.items())
            for arch, fams in val.items()
        )
        print(
            f"step {record['step']:,} ({record['images_per_s']:.0f} img/s, "
            f"{record['seconds']:.0f}s) {scores}",
            flush=True,
        )

    train_general(cfg, args.out, resume=args.resume, log=show)
    print(f"run in {args.out}: one folder per architecture, log.jsonl")
    return 0


def _add_train_general(models: Any) -> None:
    p = models.add_parser(
        "general",
        help="train the general reader (CRNN-CTC) on the CAPTCHA zoo",
        description="Train CRNN-CTC line readers on an endless seeded stream of zoo images "
        "(fonts from the system, Python font packages and folders; the families reserved for "
        "evaluation are never used). Several --arch train side by side on the same batches.",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument("--arch", nargs="+", default=["base"], choices=["small", "base", "large"],
                   help="CRNN sizes to train side by side (default: base)")  # fmt: skip
    p.add_argument("--steps", type=int, help="optimizer steps (default 20,000)")
    p.add_argument("--batch-size", type=_positive, help="images per step (default 128)")
    p.add_argument("--minutes", type=float, help="stop at the first checkpoint past this time")
    p.add_argument("--seed", type=int, help="seed of the zoo stream and the initial weights")
    p.add_argument("--init", help="a general-reader run whose weights start training")
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--fonts", nargs="+", help="font sources: bundled, system, packages or folders")
    p.add_argument(
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        help="processes rendering zoo batches (the batches do not depend on it)",
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a GeneralConfig field, e.g. --set lr=0.002")  # fmt: skip
    _add_config(p)
    p.set_defaults(handler=cmd_train_general)
