"""`ocrlab train classifier` and `ocrlab train seq`: the torch models over word-image datasets.

It owns both subcommands' flags and handlers: the ResNet18 word classifier and the sequence
recogniser (CNN encoder + Transformer decoder). Each handler maps the run flags and `--set` pairs
onto its preset, trains into `--out` with a `_TrainProgress` bar, and prints the test score.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ocrlab.cli._common import (
    _RUN_FLAGS,
    _add_config,
    _flag_overrides,
    _positive,
    _rank0,
    _TrainProgress,
)


def _add_run_flags(p: Any) -> None:
    """--epochs, --limit, --seed and --device, worded the same for both models."""
    p.add_argument("--epochs", type=int, help="training epochs (overrides the preset)")
    p.add_argument("--limit", type=int, help="use a seeded random subset of N images")
    p.add_argument("--seed", type=int, help="seed for the split, the initial weights and batches")
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda (default auto)")


def _classifier_config(args: argparse.Namespace) -> Any:
    from ocrlab.config import replace
    from ocrlab.train.classifier import PRESETS

    return replace(PRESETS[args.preset], _flag_overrides(args, _RUN_FLAGS))


def _add_model_flags(p: Any, preset_help: str) -> None:
    p.add_argument(
        "--data",
        type=Path,
        nargs="+",
        required=True,
        help="dataset folders: ocrlab datasets (PNG or packed) or labelled image folders",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument("--preset", default="quick", choices=["quick", "seed"], help=preset_help)
    _add_run_flags(p)
    p.add_argument(
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        help="processes decoding PNG images (default: all cores)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing run in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set train.lr=0.001 --set width=32",
    )
    _add_config(p)


def cmd_train_classifier(args: argparse.Namespace) -> int:
    from ocrlab.train.classifier import train_classifier

    metrics = train_classifier(
        args.data,
        args.out,
        _classifier_config(args),
        resume=args.resume,
        overwrite=args.overwrite,
        callback=_TrainProgress(),
    )
    if _rank0():
        print(
            f"test accuracy {100 * metrics['test_acc']:.2f}% after {metrics['epochs']} epochs "
            f"({metrics['seconds']:.0f}s); run in {args.out}"
        )
    return 0


def _add_train_classifier(models: Any) -> None:
    p = models.add_parser(
        "classifier",
        help="ResNet18 word classifier (one class per vocabulary word)",
        description="Train the ResNet18 word classifier of “Breaking CAPTCHA” on one or more "
        "datasets. Writes model.safetensors, checkpoint.json, history.csv, curves.png and "
        "metrics.json.",
    )
    _add_model_flags(
        p,
        "quick: 60 epochs of a half-width ResNet18 at 24x168 for a CPU; seed: 30 epochs at "
        "full size, as in “Breaking CAPTCHA” (default quick)",
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.set_defaults(handler=cmd_train_classifier)


def cmd_train_seq(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.train.sequence import PRESETS, train_seq

    overrides = _flag_overrides(args, {**_RUN_FLAGS, "split": "split", "charset": "charset"})
    if args.init is not None:
        overrides.setdefault("init", str(args.init))
    cfg = replace(PRESETS[args.preset], overrides)
    metrics = train_seq(
        args.data,
        args.out,
        cfg,
        resume=args.resume,
        overwrite=args.overwrite,
        callback=_TrainProgress(),
    )
    if _rank0():
        print(
            f"test exact match {100 * metrics['test_acc']:.2f}% after {metrics['epochs']} epochs "
            f"({metrics['seconds']:.0f}s); run in {args.out}"
        )
    return 0


def _add_train_seq(models: Any) -> None:
    p = models.add_parser(
        "seq",
        help="CNN encoder + Transformer decoder that spells any text",
        description="Train the sequence recogniser on ocrlab datasets or any labelled folder "
        "(file name = label, e.g. captcha_images_v2). Test accuracy is exact match of greedy "
        "decoding on a held-out split: by word (no test word seen in training) or random.",
    )
    p.add_argument(
        "--data",
        type=Path,
        nargs="+",
        required=True,
        help="dataset folders: ocrlab datasets or labelled image folders",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument(
        "--preset",
        default="quick",
        choices=["quick", "full", "captcha"],
        help="quick: small model at 32x224 for a CPU; full: larger model at full size; "
        "captcha: small grayscale model, random split, 80 epochs (default quick)",
    )
    p.add_argument(
        "--init",
        help="fine-tune from these weights: a shipped sequence model (default, words, captcha) "
        "or a run folder",
    )
    p.add_argument("--split", choices=["word", "random"], help="held-out split (preset default)")
    p.add_argument(
        "--charset",
        help="auto (from the labels), names joined with + (alnum, lower, upper, digits, "
        "alnum-lower; e.g. digits+upper) or the characters themselves",
    )
    _add_run_flags(p)
    p.add_argument(
        "--workers", type=_positive, default=os.cpu_count() or 1, help="decoding processes"
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set d_model=192 --set train.lr=0.0005",
    )
    _add_config(p)
    p.set_defaults(handler=cmd_train_seq)
