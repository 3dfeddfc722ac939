"""`ocrlab experiment`: reproduce the experiments of “Breaking CAPTCHA” and “Letter Recognition”.

It owns the `experiment` group and its two subcommands: `memorize` (the same ResNet18 trained on
true and on permuted labels, with the word trainers' run flags) and `grid` (the tables of
“Letter Recognition”: NumPy perceptrons and MLPs on EMNIST Letters, with the shared EMNIST flag
block).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ocrlab.cli._common import (
    _RUN_FLAGS,
    _add_config,
    _add_letters_flags,
    _flag_overrides,
    _positive,
    _TrainProgress,
)


def _add_experiment(sub: Any) -> None:
    p = sub.add_parser(
        "experiment", help="reproduce an experiment of “Breaking CAPTCHA” or “Letter Recognition”"
    )
    experiments = p.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    _add_experiment_memorize(experiments)
    _add_experiment_grid(experiments)


def cmd_experiment_memorize(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.experiments.memorize import PRESET, memorize

    cfg = replace(PRESET, _flag_overrides(args, _RUN_FLAGS))
    result = memorize(args.data, args.out, cfg, overwrite=args.overwrite, callback=_TrainProgress())
    print(f"permuted labels: {result['verdict']}; report in {args.out / 'report.md'}")
    return 0


def _add_experiment_memorize(experiments: Any) -> None:
    p = experiments.add_parser(
        "memorize",
        help="train on true and on permuted labels (Zhang et al. 2017)",
        description="Train the same ResNet18 twice with the same budget, on true and on permuted "
        "labels; writes memorize.png and report.md.",
    )
    p.add_argument("--data", type=Path, nargs="+", required=True, help="dataset folders")
    p.add_argument("--out", type=Path, required=True, help="experiment folder to write")
    p.add_argument("--epochs", type=int, help="epochs per run (default 40)")
    p.add_argument("--limit", type=int, help="images used (default 1000)")
    p.add_argument("--seed", type=int, help="seed for subset, split, permutation and weights")
    p.add_argument("--device", help="auto, cpu or cuda (default auto)")
    p.add_argument(
        "--workers", type=_positive, default=os.cpu_count() or 1, help="decoding processes"
    )
    p.add_argument("--overwrite", action="store_true", help="replace earlier runs in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set train.lr=0.001",
    )
    _add_config(p)
    p.set_defaults(handler=cmd_experiment_memorize)


def cmd_experiment_grid(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.experiments.grid import PRESETS, run_grid

    names = {"epochs": "epochs", "augment": "augment", "protocol": "protocol", "seed": "seed"}
    overrides = _flag_overrides(args, names)
    if args.models:
        overrides.setdefault("models", args.models)
    cfg = replace(PRESETS["quick" if args.quick else "full"], overrides)
    total = len(cfg.selected())
    done = iter(range(1, total + 1))

    def progress(r: dict[str, Any]) -> None:
        print(
            f"[{next(done)}/{total}] {r['model']}: train {100 * r['train_acc']:.2f}%, validation "
            f"{100 * r['val_acc']:.2f}%, test {100 * r['test_acc']:.2f}% ({r['epochs']} epochs, "
            f"{r['seconds']:.1f}s)",
            flush=True,
        )

    run_grid(cfg, args.out, args.data, progress, overwrite=args.overwrite)
    print((args.out / "grid.md").read_text(encoding="utf-8"), end="")
    print(f"table in {args.out / 'grid.md'}, rows in {args.out / 'grid.json'}")
    return 0


def _add_experiment_grid(experiments: Any) -> None:
    p = experiments.add_parser(
        "grid",
        help="the tables of “Letter Recognition”: perceptrons and MLPs of every size and "
        "activation",
        description="Train each of the 34 NumPy networks of “Letter Recognition” (perceptrons "
        "with sigmoid/BCE and softmax/CCE; one hidden layer of 64-512 units across activations; "
        "512-64/128/256; 512-256-128 with Swish and TanhExp) with SGD (lr 0.1, momentum 0.9, "
        "batch 256) and early stopping on one EMNIST split. Writes grid.md (Model, Total "
        "Parameters, Training Set, Validation Set, Test Set) and grid.json.",
    )
    p.add_argument("--quick", action="store_true", help="at most 5 epochs per model")
    p.add_argument("--epochs", type=int, help="most epochs per model (default 100; patience 5)")
    p.add_argument("--augment", help="none (default), rotate, affine or elastic")
    p.add_argument(
        "--models",
        nargs="+",
        metavar="NAME",
        help="train only these, e.g. Perceptron_softmax NN_relu_softmax_512_64",
    )
    _add_letters_flags(p, "experiment")
    p.set_defaults(handler=cmd_experiment_grid)
