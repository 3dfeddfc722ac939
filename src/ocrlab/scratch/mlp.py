"""`MLPClassifier`: the from-scratch multilayer perceptron of "Letter Recognition", as a
scikit-learn estimator.

The constructor only stores hyperparameters; `fit` checks the data, builds Dense and activation
layers and hands them to the training loop (`loop.train`: mini-batch SGD with momentum, optional
warps, early stopping on the lowest validation loss). Models are saved and loaded as pickle-free
`.npz` files (`io`). NumPy and the standard library only.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from . import io
from .activations import ACTIVATION_NAMES, ActivationName, get_activation
from .augment import AUGMENT_NAMES, AugmentName
from .init import INIT_NAMES, InitName, as_generator, init_weights, resolve_init
from .layers import F32, Dense, Layer, all_parameters, forward_all
from .loop import PREDICT_ROWS, EpochRecord, Schedule, holdout, train
from .losses import OUTPUT_NAMES, Labels, OutputName, get_output

FILE_KIND = "ocrlab.scratch.MLPClassifier"


@dataclasses.dataclass(eq=False)
class MLPClassifier:
    """Multilayer perceptron classifier; `hidden=()` gives the single-layer perceptron of
    "Letter Recognition".

    Learned attributes: `layers_` (Dense, activation, ..., Dense), `classes_`, `n_features_in_`,
    `history_` (EpochRecord per epoch), `best_epoch_` (1-based epoch whose weights are kept),
    `n_params_`. Without `X_val`, early stopping holds out `validation_fraction` of the rows.
    `lr_decay` multiplies the learning rate once per epoch; `callback` sees each history row.
    `augment` True (or "rotate") is the rotation of "Letter Recognition"; "affine" and "elastic"
    warp harder.
    """

    hidden: Sequence[int] = (512, 256, 128)
    activation: ActivationName = "tanhexp"
    output: OutputName = "softmax"
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 256
    epochs: int = 100
    l2: float = 0.0
    lr_decay: float = 1.0
    early_stopping: bool = True
    patience: int = 5
    validation_fraction: float = 0.2
    augment: bool | AugmentName = False
    shuffle: bool = True
    init: InitName = "auto"
    random_state: int | np.random.Generator = 0
    verbose: bool = False
    callback: Callable[[EpochRecord], None] | None = None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments by name (scikit-learn contract; `deep` changes nothing)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def set_params(self, **params: Any) -> MLPClassifier:
        """Change constructor arguments; unknown names raise ValueError."""
        unknown = set(params) - set(self.get_params())
        if unknown:
            raise ValueError(
                f"unknown parameters {sorted(unknown)}; valid: {list(self.get_params())}"
            )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        X_val: npt.ArrayLike | None = None,
        y_val: npt.ArrayLike | None = None,
    ) -> MLPClassifier:
        """Train on X (n, features) in [0, 1] and labels y (n,); returns self."""
        self._check_params()
        rng = as_generator(self.random_state)
        features = _features(X)
        self.classes_, labels = np.unique(_labels(y, features.shape[0]), return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError("y needs at least two classes")
        self.n_features_in_ = features.shape[1]
        if self.augment and math.isqrt(self.n_features_in_) ** 2 != self.n_features_in_:
            raise ValueError(f"augment warps square images; X has {self.n_features_in_} columns")
        data, val = self._split(features, labels, X_val, y_val, rng)
        self.layers_ = self._build(rng)
        self.n_params_ = sum(w.size for w, _ in all_parameters(self.layers_))
        self.history_: list[EpochRecord] = []
        schedule = Schedule(
            self.lr, self.momentum, self.batch_size, self.epochs, self.lr_decay,
            self.early_stopping, self.patience, self.augment, self.shuffle,
        )  # fmt: skip
        self.best_epoch_ = train(self.layers_, self.output, data, val, schedule, rng, self._report)
        return self

    def predict_proba(self, X: npt.ArrayLike) -> F32:
        """Class probabilities (n, n_classes) in the order of `classes_`, computed in chunks."""
        self._check_fitted()
        data = np.asarray(X)
        if data.ndim != 2 or data.shape[1] != self.n_features_in_:
            raise ValueError(f"X must be (rows, {self.n_features_in_}), got shape {data.shape}")
        output = get_output(self.output)
        proba = np.empty((data.shape[0], self.classes_.size), dtype=np.float32)
        for start in range(0, data.shape[0], PREDICT_ROWS):
            # Converting per chunk keeps a float64 or uint8 input from doubling peak memory.
            chunk = np.ascontiguousarray(data[start : start + PREDICT_ROWS], dtype=np.float32)
            proba[start : start + PREDICT_ROWS] = output.probabilities(
                forward_all(self.layers_, chunk)
            )
        return proba

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """The most probable class label of each row (n,)."""
        best = np.argmax(self.predict_proba(X), axis=1)
        labels: npt.NDArray[Any] = self.classes_[best]
        return labels

    def top_k(self, X: npt.ArrayLike, k: int) -> npt.NDArray[Any]:
        """The `k` most probable class labels of each row (n, k), most probable first."""
        self._check_fitted()
        if not 1 <= k <= self.classes_.size:
            raise ValueError(f"k must be in [1, {self.classes_.size}], got {k}")
        order = np.argsort(-self.predict_proba(X), axis=1, kind="stable")
        labels: npt.NDArray[Any] = self.classes_[order[:, :k]]
        return labels

    def score(self, X: npt.ArrayLike, y: npt.ArrayLike) -> float:
        """Mean accuracy of `predict(X)` against y."""
        truth = _labels(y, np.shape(X)[0])
        return float(np.mean(self.predict(X) == truth))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model to `path` as a pickle-free .npz.

        A Generator `random_state` cannot be written; the loaded copy gets 0, used only by a refit.
        """
        self._check_fitted()
        params = self.get_params()
        del params["callback"]
        params["hidden"] = [int(h) for h in self.hidden]
        if isinstance(self.random_state, np.random.Generator):
            params["random_state"] = None
        header = {
            "params": params,
            "n_features_in": self.n_features_in_,
            "best_epoch": self.best_epoch_,
            "history": [dataclasses.asdict(row) for row in self.history_],
        }
        dense = [(layer.W, layer.b) for layer in self.layers_ if isinstance(layer, Dense)]
        io.write_npz(path, FILE_KIND, header, {"classes": self.classes_, **io.layer_arrays(dense)})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLPClassifier:
        """A fitted classifier read from a file written by `save`; ValueError if it is not one."""
        header, arrays = io.read_npz(path, FILE_KIND)
        try:
            params = dict(header["params"])
            params["hidden"] = tuple(params["hidden"])
            if params["random_state"] is None:
                params["random_state"] = 0
            model = cls(**params)
            model._check_params()
            model.classes_ = arrays.pop("classes")
            if model.classes_.ndim != 1 or model.classes_.size < 2:
                raise ValueError(f"classes has shape {model.classes_.shape}")
            model.n_features_in_ = int(header["n_features_in"])
            sizes = [model.n_features_in_, *model.hidden, model.classes_.size]
            model.layers_ = model._stack(io.read_layer_arrays(arrays, sizes))
            model.n_params_ = sum(w.size for w, _ in all_parameters(model.layers_))
            model.history_ = [EpochRecord(**row) for row in header["history"]]
            model.best_epoch_ = int(header["best_epoch"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} is a corrupt MLPClassifier file: {exc}") from exc
        return model

    def _check_params(self) -> None:
        checks = {
            "hidden": all(isinstance(h, int | np.integer) and h > 0 for h in self.hidden),
            "activation": self.activation in ACTIVATION_NAMES,
            "output": self.output in OUTPUT_NAMES,
            "init": self.init in INIT_NAMES,
            "lr": self.lr > 0,
            "momentum": 0 <= self.momentum < 1,
            "batch_size": isinstance(self.batch_size, int) and self.batch_size > 0,
            "epochs": isinstance(self.epochs, int) and self.epochs > 0,
            "l2": self.l2 >= 0,
            "lr_decay": 0 < self.lr_decay <= 1,
            "patience": isinstance(self.patience, int) and self.patience > 0,
            "validation_fraction": 0 < self.validation_fraction < 1,
            "augment": isinstance(self.augment, bool) or self.augment in AUGMENT_NAMES,
        }
        bad = [f"{name}={getattr(self, name)!r}" for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid MLPClassifier parameters: {', '.join(bad)}")
        as_generator(self.random_state)

    def _check_fitted(self) -> None:
        if not hasattr(self, "layers_"):
            raise ValueError("this MLPClassifier is not fitted yet; call fit first")

    def _split(
        self,
        X: F32,
        y: Labels,
        X_val: npt.ArrayLike | None,
        y_val: npt.ArrayLike | None,
        rng: np.random.Generator,
    ) -> tuple[tuple[F32, Labels], tuple[F32, Labels] | None]:
        """Training data and validation data: the given set, a held-out split, or None."""
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        if X_val is not None and y_val is not None:
            features = _features(X_val)
            if features.shape[1] != X.shape[1]:
                raise ValueError(f"X_val has {features.shape[1]} columns, X has {X.shape[1]}")
            raw = _labels(y_val, features.shape[0])
            idx = np.searchsorted(self.classes_, raw).clip(0, self.classes_.size - 1)
            if np.any(self.classes_[idx] != raw):
                raise ValueError("y_val holds labels that never occur in y")
            return (X, y), (features, idx.astype(np.intp))
        if not self.early_stopping:
            return (X, y), None
        return holdout(X, y, self.validation_fraction, rng)

    def _build(self, rng: np.random.Generator) -> list[Layer]:
        """Fresh layers; each Dense is initialised for the nonlinearity that consumes its output."""
        sizes = [self.n_features_in_, *self.hidden, self.classes_.size]
        weights = []
        for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
            consumer = self.output if i == len(sizes) - 2 else self.activation
            w = init_weights(fan_in, fan_out, resolve_init(self.init, consumer), rng)
            weights.append((w, np.zeros(fan_out, np.float32)))
        return self._stack(weights)

    def _stack(self, weights: list[tuple[F32, F32]]) -> list[Layer]:
        """Dense layers from (W, b) pairs with this model's activation between them."""
        layers: list[Layer] = []
        for w, b in weights:
            if layers:
                layers.append(get_activation(self.activation))
            layers.append(Dense(w, b, self.l2))
        return layers

    def _report(self, row: EpochRecord) -> None:
        self.history_.append(row)
        if self.verbose:
            print(row)
        if self.callback is not None:
            self.callback(row)


def _features(X: npt.ArrayLike) -> F32:
    features = np.ascontiguousarray(X, dtype=np.float32)
    if features.ndim != 2 or features.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (rows, features), not {features.shape}")
    return features


def _labels(y: npt.ArrayLike, rows: int) -> npt.NDArray[Any]:
    labels = np.asarray(y)
    if labels.shape != (rows,):
        raise ValueError(f"y must have shape ({rows},) to match X, got {labels.shape}")
    return labels
