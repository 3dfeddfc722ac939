"""`ocrlab train mlp` and `ocrlab train letters-cnn`: the models on EMNIST Letters.

It owns both subcommands' flags and handlers: the from-scratch NumPy MLP of “Letter Recognition”
(with its one-line-per-epoch report, `_epoch_line`) and the letter reader's torch CNN. Both share
the EMNIST flag block of `_common._add_letters_flags` and print train/validation/test accuracy.
"""

from __future__ import annotations

import argparse
from typing import Any

from ocrlab.cli._common import _add_letters_flags, _flag_overrides, _rank0, _TrainProgress


def _epoch_line(row: dict[str, Any]) -> None:
    val = ""
    if row.get("val_loss") is not None:
        val = f" | val loss {row['val_loss']:.4f} acc {100 * row['val_acc']:.2f}%"
    print(
        f"epoch {row['epoch']:>3}: train loss {row['train_loss']:.4f} acc "
        f"{100 * row['train_acc']:.2f}%{val} | test acc {100 * row['test_acc']:.2f}% "
        f"| {row['seconds']:.1f}s",
        flush=True,
    )


def cmd_train_mlp(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.train.mlp import PRESETS, parse_hidden, train_mlp

    names = {
        "activation": "activation", "output": "output", "lr": "lr", "momentum": "momentum",
        "batch": "batch_size", "epochs": "epochs", "patience": "patience",
        "lr_decay": "lr_decay", "l2": "l2", "augment": "augment", "refit": "refit",
        "protocol": "protocol", "seed": "seed", "printed": "printed",
    }  # fmt: skip
    overrides = _flag_overrides(args, names)
    if args.hidden is not None:
        overrides.setdefault("hidden", parse_hidden(args.hidden))
    cfg = replace(PRESETS[args.preset], overrides)
    m = train_mlp(cfg, args.out, args.data, _epoch_line, overwrite=args.overwrite)
    test = m["test"]
    print(
        f"{m['model']} ({m['params']:,} parameters): train {100 * m['train_acc']:.2f}%, "
        f"validation {100 * m['val_acc']:.2f}%, test {100 * test['top1']:.2f}% (top-2 "
        f"{100 * test['top2']:.2f}%, top-5 {100 * test['top5']:.2f}%) in {m['seconds']:.0f}s; "
        f"run in {args.out}"
    )
    return 0


def _add_train_mlp(models: Any) -> None:
    from ocrlab.scratch import ACTIVATION_NAMES

    p = models.add_parser(
        "mlp",
        help="the NumPy MLP of “Letter Recognition” on EMNIST Letters",
        description="Train the from-scratch NumPy MLP on EMNIST Letters: early stopping on a "
        "seeded, stratified 80/20 train/validation split, scored on the test file. Writes "
        "model.npz, history.csv, curves.png, metrics.json (train/validation/test accuracy, "
        "top-1/2/5, per class, a-l), confusion.png and misclassified.png.",
    )
    p.add_argument(
        "--preset",
        choices=["seed", "best"],
        default="seed",
        help="seed: the 512-256-128 TanhExp recipe of “Letter Recognition” (SGD lr 0.1, "
        "momentum 0.9, batch 256, rotations, patience 5); best: the same network with affine + "
        "elastic warps, lr decay 0.99 per epoch and patience 40, up to 400 epochs (default seed)",
    )
    p.add_argument("--hidden", help="hidden widths, e.g. 512,256,128; 'none' for the perceptron")
    p.add_argument("--activation", help=f"hidden activation: {', '.join(ACTIVATION_NAMES)}")
    p.add_argument("--output", help="softmax (+ cross-entropy) or sigmoid (+ binary CE)")
    p.add_argument("--lr", type=float, help="learning rate (default 0.1)")
    p.add_argument("--momentum", type=float, help="SGD momentum in [0, 1) (default 0.9)")
    p.add_argument("--batch", type=int, help="mini-batch size (default 256)")
    p.add_argument("--epochs", type=int, help="most epochs; early stopping may end sooner")
    p.add_argument("--patience", type=int, help="epochs without a lower validation loss to stop")
    p.add_argument("--lr-decay", type=float, help="multiply lr by this every epoch (default 1)")
    p.add_argument("--l2", type=float, help="L2 weight decay on the weights (default 0)")
    p.add_argument(
        "--augment",
        help="none, rotate (as in “Letter Recognition”), affine, or elastic (+ a field)",
    )
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        help="retrain on train + validation for the epochs early stopping chose",
    )
    p.add_argument(
        "--printed",
        type=int,
        metavar="N",
        help="add N printed letters per class to training, as for letters-cnn (default 0)",
    )
    _add_letters_flags(p, "run")
    p.set_defaults(handler=cmd_train_mlp)


def cmd_train_letters_cnn(args: argparse.Namespace) -> int:
    from ocrlab.config import replace
    from ocrlab.train.letters_cnn import PRESETS, train_letters_cnn

    names = {
        "epochs": "epochs", "batch": "batch_size", "lr": "lr", "width": "width",
        "device": "device", "augment": "augment", "protocol": "protocol", "seed": "seed",
        "printed": "printed", "refit": "refit",
    }  # fmt: skip
    cfg = replace(PRESETS[args.preset], _flag_overrides(args, names))
    m = train_letters_cnn(cfg, args.out, args.data, _TrainProgress(), overwrite=args.overwrite)
    test = m["test"]
    val = "refit on it" if m["val_acc"] is None else f"{100 * m['val_acc']:.2f}%"
    if _rank0():
        print(
            f"letters_cnn ({m['params']:,} parameters): validation {val}, test "
            f"{100 * test['top1']:.2f}% (top-2 {100 * test['top2']:.2f}%, top-5 "
            f"{100 * test['top5']:.2f}%) in {m['seconds']:.0f}s on {m['device']}; run in {args.out}"
        )
    return 0


def _add_train_letters_cnn(models: Any) -> None:
    p = models.add_parser(
        "letters-cnn",
        help="the letter reader's torch CNN on EMNIST Letters",
        description="Train the letters_cnn CNN (28x28x1 in, 26 letters out) with the shared "
        "engine: AdamW, one-cycle schedule, label smoothing, affine + elastic warps. Writes "
        "model.safetensors, checkpoint.json, history.csv, curves.png, metrics.json (top-1/2/5, "
        "per class, a-l), confusion.png and misclassified.png.",
    )
    p.add_argument(
        "--preset",
        choices=["default", "quick"],
        default="default",
        help="default: 30 epochs; quick: 5 epochs, to check a setup (default default)",
    )
    p.add_argument("--epochs", type=int, help="training epochs (overrides the preset)")
    p.add_argument("--batch", type=int, help="mini-batch size (default 128)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 0.003)")
    p.add_argument("--width", type=int, help="channels of the first stage (default 32)")
    p.add_argument(
        "--augment",
        help="none; affine: the engine's small on-device warps; elastic: the NumPy MLP's "
        "affine + elastic warps (default elastic)",
    )
    p.add_argument(
        "--printed",
        type=int,
        metavar="N",
        help="add N printed letters per class to training (training fonts, colours and "
        "backgrounds through the letter reader's preprocessing), so `ocrlab read --model "
        "letters` reads digital letters too (default 0: EMNIST only)",
    )
    p.add_argument(
        "--refit",
        action="store_true",
        default=None,
        help="train on the validation part too (the final model, once the recipe is chosen); "
        "validation accuracy is then not reported",
    )
    p.add_argument("--device", help="auto (CUDA when present), cpu or cuda (default auto)")
    _add_letters_flags(p, "run")
    p.set_defaults(handler=cmd_train_letters_cnn)
