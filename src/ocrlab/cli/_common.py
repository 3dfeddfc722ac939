"""Helpers that more than one subcommand module shares: progress output and flag plumbing.

It owns the tqdm bar over images (`_progress_bar`), the per-epoch bar and summary line of the
torch trainers (`_TrainProgress`), the mapping from a `--config FILE.toml`, the given flags and
`--set` pairs to config overrides (`_flag_overrides`, `_RUN_FLAGS`, `_add_config`), the check of
an output file before the work that fills it (`_output_file`), and the flag block of the EMNIST
Letters commands (`_add_letters_flags`). Like the rest of the CLI it imports
tqdm and the library only when called.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ocrlab.errors import ConfigError

# The run flags of the torch trainers on word datasets (flag attribute → config key); `--workers`
# always has a value, so it is always an override.
_RUN_FLAGS = {
    "workers": "workers",
    "epochs": "train.epochs",
    "seed": "train.seed",
    "device": "train.device",
    "limit": "limit",
}


def _rank0() -> bool:
    """Whether this process reports: under torchrun every rank runs the command, rank 0 speaks."""
    return os.environ.get("RANK", "0") == "0"


def _progress_bar(total: int | None, desc: str) -> Any:
    """A tqdm bar over images on a terminal (none in a log or a pipe); `total` None: a count."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img", disable=None, smoothing=0.1)


class _TrainProgress:
    """A tqdm bar over each epoch's batches and one summary line per epoch."""

    def __init__(self, batches: int | None = None) -> None:
        self.bar: Any = None
        self.batches = batches

    def __call__(self, event: dict[str, Any]) -> None:
        from tqdm import tqdm

        if event["event"] == "batch":
            if self.bar is None:
                self.bar = tqdm(total=self.batches, unit="batch", leave=False, disable=None)
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{event['loss']:.3f}")
            return
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        print(
            f"epoch {event['epoch']:>3}: train loss {event['train_loss']:.4f} acc "
            f"{100 * event['train_acc']:.2f}% | test loss {event['test_loss']:.4f} acc "
            f"{100 * event['test_acc']:.2f}% | {event['seconds']:.1f}s",
            flush=True,
        )


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (workers, alternatives, a batch)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _output_file(path: Path, flag: str, suffix: str = "") -> None:
    """Refuse an output file that cannot be written, before the work that fills it: a folder, a
    missing parent, or (with `suffix`) an existing file of another kind that it would replace."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise ConfigError(f"{flag} {path}: the folder {path.parent} does not exist")
    if suffix and path.exists() and path.suffix != suffix:
        raise ConfigError(f"{flag} {path} exists and is not a {suffix} file; not replacing it")


def _flag_overrides(args: argparse.Namespace, names: dict[str, str]) -> dict[str, Any]:
    """Config overrides: the --config file's, then the flags given (flag attribute → config key),
    then --set pairs; each later one wins."""
    from ocrlab.config import parse_overrides

    given = {key: getattr(args, flag) for flag, key in names.items()}
    flags = {k: v for k, v in given.items() if v is not None}
    return {**_config_file(args), **flags, **parse_overrides(args.set)}


def _config_file(args: argparse.Namespace) -> dict[str, Any]:
    """The --config TOML file as dotted overrides (`[train] epochs = 3` → `train.epochs`)."""
    from ocrlab.config import flatten, load_toml

    return {} if args.config is None else flatten(load_toml(args.config))


def _add_config(p: Any) -> None:
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="config overrides from a TOML file (tables for sections, e.g. [train] epochs = 3); "
        "flags and --set win over it",
    )


def _add_letters_flags(p: Any, what: str) -> None:
    """--data, --protocol, --out, --seed, --overwrite and --set, shared by the EMNIST commands."""
    p.add_argument(
        "--data",
        type=Path,
        help="folder of the EMNIST Letters files: NIST's idx files, the Kaggle CSVs, "
        "emnist-letters.mat or the subset .npz files (default: $OCRLAB_DATA/emnist, else "
        "../shared/data/emnist, else ~/.cache/ocrlab/data/emnist)",
    )
    p.add_argument(
        "--protocol",
        help="auto (NIST's full files where present, else the subset), full, or subset: train and "
        "validate on the 8,880-image subset, test on the 10,467-image subset (default auto)",
    )
    p.add_argument("--out", type=Path, required=True, help=f"{what} folder to write")
    p.add_argument("--seed", type=int, help="seed for the split, the weights and the batches")
    p.add_argument("--overwrite", action="store_true", help=f"replace an earlier {what} in --out")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config field, e.g. --set l2=0.0001 --set 'hidden=[256, 128]' "
        "(repeatable)",
    )
    _add_config(p)
