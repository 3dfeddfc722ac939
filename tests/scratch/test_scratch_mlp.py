"""MLPClassifier: the parameter counts of "Letter Recognition", gradients, determinism, early
stopping, learning."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.scratch import EpochRecord, MLPClassifier
from ocrlab.scratch.init import as_generator
from ocrlab.scratch.layers import Dense, backward_all, forward_all
from ocrlab.scratch.losses import get_output

# (hidden sizes, total parameters) for 784 inputs and 26 classes, from the tables of
# "Letter Recognition".
SEED_COUNTS = [
    ((), 20_410),
    ((64,), 51_930),
    ((128,), 103_834),
    ((256,), 207_642),
    ((512,), 415_258),
    ((512, 64), 436_442),
    ((512, 128), 470_938),
    ((512, 256), 539_930),
]


def blobs(n: int = 600, classes: int = 4, dim: int = 20, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Well-separated Gaussian clusters in [0, 1]: (X_train, y_train, X_test, y_test)."""
    rng = as_generator(seed)
    centres = rng.random((classes, dim))
    y = rng.integers(0, classes, size=2 * n)
    X = np.clip(centres[y] + 0.08 * rng.standard_normal((2 * n, dim)), 0, 1).astype(np.float32)
    return X[:n], y[:n], X[n:], y[n:]


@pytest.mark.parametrize(("hidden", "expected"), SEED_COUNTS)
def test_parameter_counts_match_the_seed(hidden: tuple[int, ...], expected: int) -> None:
    X = np.zeros((26, 784), np.float32)
    clf = MLPClassifier(hidden=hidden, epochs=1, early_stopping=False).fit(X, np.arange(26))
    assert clf.n_params_ == expected
    assert sum(w.size for layer in clf.layers_ for w, _ in layer.parameters()) == expected


def test_layers_alternate_dense_and_activation() -> None:
    X, y, _, _ = blobs(50)
    clf = MLPClassifier(hidden=(8, 6), activation="mish", epochs=1).fit(X, y)
    kinds = [type(layer).__name__ for layer in clf.layers_]
    assert kinds == ["Dense", "Mish", "Dense", "Mish", "Dense"]
    assert all(w.dtype == np.float32 for layer in clf.layers_ for w, _ in layer.parameters())


def test_whole_network_gradients_match_finite_differences() -> None:
    X, y, _, _ = blobs(12, classes=3, dim=6)
    clf = MLPClassifier(hidden=(5, 4), activation="tanhexp", epochs=1, early_stopping=False)
    clf.fit(X, y)
    # Run the classifier's own forward/backward in float64 so finite differences are exact enough.
    for layer in clf.layers_:
        if isinstance(layer, Dense):
            layer.W, layer.b = layer.W.astype(np.float64), layer.b.astype(np.float64)
            layer.dW, layer.db = np.zeros_like(layer.W), np.zeros_like(layer.b)
    x64, loss, h = X.astype(np.float64), get_output("softmax"), 1e-6
    labels = np.searchsorted(clf.classes_, y)
    loss.forward(forward_all(clf.layers_, x64), labels)
    backward_all(clf.layers_, loss.backward())
    for value, grad in [p for layer in clf.layers_ for p in layer.parameters()]:
        analytic = grad.copy()
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            saved = value[idx]
            value[idx] = saved + h
            plus = loss.forward(forward_all(clf.layers_, x64), labels)
            value[idx] = saved - h
            minus = loss.forward(forward_all(clf.layers_, x64), labels)
            value[idx] = saved
            numeric[idx] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("hidden", [(), (32,)])
def test_learns_separable_problem(output: str, hidden: tuple[int, ...]) -> None:
    X, y, X_test, y_test = blobs()
    clf = MLPClassifier(hidden=hidden, output=output, epochs=15, batch_size=32)  # type: ignore[arg-type]
    clf.fit(X, y)
    assert clf.score(X_test, y_test) > 0.95
    assert clf.history_[-1].train_loss < clf.history_[0].train_loss


def test_same_random_state_gives_identical_weights() -> None:
    X, y, _, _ = blobs(200)

    def weights(seed: int) -> list[np.ndarray]:
        clf = MLPClassifier(hidden=(16,), epochs=3, augment=False, random_state=seed).fit(X, y)
        return [w for layer in clf.layers_ for w, _ in layer.parameters()]

    first, again, other = weights(7), weights(7), weights(8)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_early_stopping_restores_best_validation_weights() -> None:
    rng = as_generator(1)
    X = rng.random((120, 30), dtype=np.float32)
    y = rng.integers(0, 3, size=120)  # pure noise: validation loss rises once it memorises
    X_val = rng.random((60, 30), dtype=np.float32)
    y_val = rng.integers(0, 3, size=60)
    snapshots: list[list[np.ndarray]] = []
    clf = MLPClassifier(hidden=(64,), activation="relu", epochs=60, patience=3, batch_size=16)

    def keep(row: EpochRecord) -> None:
        snapshots.append([w.copy() for layer in clf.layers_ for w, _ in layer.parameters()])

    clf.set_params(callback=keep).fit(X, y, X_val, y_val)
    val_losses = [row.val_loss for row in clf.history_]
    assert len(clf.history_) < 60, "validation loss on noise should stop training early"
    assert clf.best_epoch_ == int(np.argmin(val_losses)) + 1
    assert len(clf.history_) == clf.best_epoch_ + 3
    final = [w for layer in clf.layers_ for w, _ in layer.parameters()]
    for kept, best in zip(final, snapshots[clf.best_epoch_ - 1], strict=True):
        np.testing.assert_array_equal(kept, best)


def test_history_rows_and_holdout_validation() -> None:
    X, y, _, _ = blobs(100)
    rows: list[EpochRecord] = []
    clf = MLPClassifier(hidden=(8,), epochs=3, lr_decay=0.5, patience=10, callback=rows.append)
    clf.fit(X, y)
    assert rows == clf.history_ and [r.epoch for r in rows] == [1, 2, 3]
    assert [r.lr for r in rows] == pytest.approx([0.1, 0.05, 0.025])
    assert all(r.val_loss is not None and 0 <= (r.val_acc or 0) <= 1 for r in rows)
    assert all(r.seconds > 0 for r in rows)


def test_without_validation_keeps_last_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    X, y, _, _ = blobs(60)
    clf = MLPClassifier(hidden=(4,), epochs=2, early_stopping=False, verbose=True).fit(X, y)
    assert clf.best_epoch_ == 2 and clf.history_[0].val_loss is None
    assert "epoch 2" in capsys.readouterr().out


def test_predictions_labels_proba_top_k() -> None:
    X, y, X_test, _ = blobs(300)
    names = np.array(["a", "b", "c", "d"])[y]
    clf = MLPClassifier(hidden=(16,), epochs=5).fit(X, names)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 4) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    top = clf.top_k(X_test, 2)
    assert top.shape == (len(X_test), 2)
    np.testing.assert_array_equal(top[:, 0], clf.predict(X_test))
    assert set(clf.predict(X_test)) <= {"a", "b", "c", "d"}
    with pytest.raises(ValueError, match="k must"):
        clf.top_k(X_test, 5)


def test_predict_proba_is_chunked_consistently() -> None:
    X, y, _, _ = blobs(100)
    clf = MLPClassifier(hidden=(8,), epochs=1).fit(X, y)
    big = np.tile(X, (50, 1))  # 5000 rows: three inference chunks
    proba = clf.predict_proba(big)
    np.testing.assert_allclose(proba[-100:], clf.predict_proba(X), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(clf.predict_proba(big.astype(np.float64)), proba)


def test_augmented_fit_on_square_images() -> None:
    rng = as_generator(4)
    X = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 3, size=64)
    clf = MLPClassifier(hidden=(8,), epochs=2, augment=True, early_stopping=False).fit(X, y)
    assert len(clf.history_) == 2
    with pytest.raises(ValueError, match="square"):
        MLPClassifier(augment=True).fit(X[:, :99], y)


def test_get_and_set_params() -> None:
    clf = MLPClassifier(hidden=(3,), lr=0.2)
    params = clf.get_params()
    assert params["hidden"] == (3,) and params["lr"] == 0.2 and "callback" in params
    assert MLPClassifier(**params).get_params() == params
    assert clf.set_params(lr=0.3).lr == 0.3
    with pytest.raises(ValueError, match="unknown"):
        clf.set_params(learning_rate=0.3)


@pytest.mark.parametrize(
    "params",
    [
        {"activation": "gelu"},
        {"output": "hinge"},
        {"hidden": (0,)},
        {"lr": 0.0},
        {"momentum": 1.0},
        {"batch_size": 0},
        {"epochs": 0},
        {"lr_decay": 1.5},
        {"init": "lecun"},
        {"validation_fraction": 1.0},
    ],
)
def test_invalid_parameters_raise_on_fit(params: dict[str, object]) -> None:
    X, y, _, _ = blobs(20)
    clf = MLPClassifier(**params)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid"):
        clf.fit(X, y)


def test_input_validation() -> None:
    X, y, _, _ = blobs(40)
    with pytest.raises(ValueError, match="not fitted"):
        MLPClassifier().predict(X)
    with pytest.raises(ValueError, match="two classes"):
        MLPClassifier(epochs=1).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="shape"):
        MLPClassifier(epochs=1).fit(X, y[:-1])
    with pytest.raises(ValueError, match="never occur"):
        MLPClassifier(epochs=1).fit(X, y, X, y + 10)
    with pytest.raises(ValueError, match="both"):
        MLPClassifier(epochs=1).fit(X, y, X_val=X)
    clf = MLPClassifier(hidden=(4,), epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="rows, 20"):
        clf.predict(X[:, :5])


def test_generator_random_state_is_consumed() -> None:
    X, y, _, _ = blobs(50)
    rng = as_generator(0)
    clf = MLPClassifier(hidden=(4,), epochs=1, random_state=rng).fit(X, y)
    again = MLPClassifier(hidden=(4,), epochs=1, random_state=rng).fit(X, y)
    assert not np.array_equal(
        clf.layers_[0].parameters()[0][0], again.layers_[0].parameters()[0][0]
    )
