"""The tables of "Letter Recognition": every NumPy network it compared, trained one way, as one
Markdown table.

Owns the list of the models in "Letter Recognition" (the two single-layer perceptrons, one hidden
layer of 64 to 512 units across activations, two hidden layers 512-64/128/256, and 512-256-128 with
Swish and TanhExp), `GridConfig` (the shared training recipe, with a `quick` preset) and `run_grid`,
which trains each model on the same EMNIST split and writes `grid.md` (Model, Total Parameters,
Training Set, Validation Set, Test Set) and `grid.json`. NumPy, matplotlib and Pillow; never torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from ocrlab import __version__
from ocrlab.config import to_dict
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.data.emnist import LETTERS, Protocol, to_features
from ocrlab.errors import ConfigError
from ocrlab.scratch import ActivationName, OutputName
from ocrlab.train.mlp import (
    Augment,
    MLPConfig,
    fit_classifier,
    make_classifier,
    model_name,
)
from ocrlab.train.report import load_letter_splits, write_json
from ocrlab.train.run_folder import prepare_run


@dataclass(frozen=True)
class GridModel:
    """One row of the tables of "Letter Recognition": hidden widths, hidden activation and output
    layer."""

    hidden: tuple[int, ...]
    activation: ActivationName
    output: OutputName = "softmax"

    @property
    def name(self) -> str:
        return model_name(self.hidden, self.activation, self.output)

    @property
    def params(self) -> int:
        """Weights and biases of the 784 → hidden → 26 network."""
        sizes = [28 * 28, *self.hidden, len(LETTERS)]
        return sum(fan_in * fan_out + fan_out for fan_in, fan_out in pairwise(sizes))


_FOUR: tuple[ActivationName, ...] = ("relu", "leaky_relu", "swish", "mish")
SEED_MODELS: tuple[GridModel, ...] = (
    GridModel((), "sigmoid", "sigmoid"),
    GridModel((), "sigmoid", "softmax"),
    *(GridModel((64,), a) for a in ("sigmoid", "tanh", "relu", "leaky_relu", "swish", "mish")),
    *(GridModel((n,), a) for n in (128, 256, 512) for a in _FOUR),
    *(GridModel((512, n), a) for n in (64, 128, 256) for a in _FOUR),
    GridModel((512, 256, 128), "swish"),
    GridModel((512, 256, 128), "tanhexp"),
)
"""The models of "Letter Recognition" in the order of its slides."""


@dataclass(frozen=True)
class GridConfig:
    """How every model of the grid trains: the mini-batch recipe of "Letter Recognition" with early
    stopping."""

    epochs: int = 100
    """Most epochs per model; early stopping usually ends sooner."""
    patience: int = 5
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 256
    augment: Augment = "none"
    models: tuple[str, ...] = ()
    """Train only these (seed names, e.g. NN_relu_softmax_512_64); () is all of them."""
    val_fraction: float = 0.2
    protocol: Protocol = "auto"
    seed: int = 0

    def mlp(self, model: GridModel) -> MLPConfig:
        """The single-run config of `model` under this recipe."""
        return MLPConfig(
            hidden=model.hidden,
            activation=model.activation,
            output=model.output,
            lr=self.lr,
            momentum=self.momentum,
            batch_size=self.batch_size,
            epochs=self.epochs,
            patience=self.patience,
            augment=self.augment,
            val_fraction=self.val_fraction,
            protocol=self.protocol,
            seed=self.seed,
        )

    def selected(self) -> list[GridModel]:
        """The models to train, in the order of "Letter Recognition"; an unknown name is a
        ConfigError."""
        names = {m.name for m in SEED_MODELS}
        unknown = sorted(set(self.models) - names)
        if unknown:
            raise ConfigError(f"unknown grid model(s) {unknown}; known: {sorted(names)}")
        return [m for m in SEED_MODELS if not self.models or m.name in self.models]


PRESETS: dict[str, GridConfig] = {"full": GridConfig(), "quick": GridConfig(epochs=5)}


def run_grid(
    config: GridConfig,
    out: Path,
    data_root: Path | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    overwrite: bool = False,
) -> list[dict[str, Any]]:
    """Train every selected model on one EMNIST split; write grid.md and grid.json into `out`.

    `callback` receives each finished row (model, params, train/val/test accuracy, epochs,
    seconds). Returns the rows in the order of "Letter Recognition".
    """
    models = config.selected()
    data = load_letter_splits(data_root, config.protocol, config.seed, config.val_fraction)
    prepare_run(out, {"experiment": "grid", "config": to_dict(config)}, False, overwrite, False)
    features = {
        part: (to_features(s.images), s.labels)
        for part, s in (("train", data.train), ("val", data.val), ("test", data.test))
    }
    rows = []
    for model in models:
        started = time.perf_counter()
        clf = fit_classifier(make_classifier(config.mlp(model)), data.train, data.val)
        row: dict[str, Any] = {"model": model.name, "params": clf.n_params_}
        for part, (x, y) in features.items():
            row[f"{part}_acc"] = clf.score(x, y)
        row.update(epochs=len(clf.history_), best_epoch=clf.best_epoch_)
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        if callback is not None:
            callback(row)
    atomic_write_bytes(out / "grid.md", markdown_table(rows).encode())
    write_json(
        out / "grid.json",
        {"rows": rows, "data": data.describe(), "config": to_dict(config), "ocrlab": __version__},
    )
    return rows


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The table of "Letter Recognition":
    Model | Total Parameters | Training Set | Validation Set | Test Set."""
    lines = [
        "| Model | Total Parameters | Training Set | Validation Set | Test Set |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        accs = " | ".join(f"{100 * r[f'{p}_acc']:.2f} %" for p in ("train", "val", "test"))
        lines.append(f"| {r['model']} | {r['params']:,} | {accs} |")
    return "\n".join(lines) + "\n"
