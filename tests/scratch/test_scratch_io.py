"""Saving and loading MLPClassifier: exact round trips, no pickle, clear errors for bad files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ocrlab.scratch import MLPClassifier
from ocrlab.scratch.init import as_generator
from ocrlab.scratch.io import HEADER_KEY, read_npz, write_npz
from ocrlab.scratch.mlp import FILE_KIND


@pytest.fixture(scope="module")
def fitted() -> tuple[MLPClassifier, np.ndarray]:
    rng = as_generator(0)
    X = rng.random((90, 16), dtype=np.float32)
    labels = np.array(["x", "y", "z"])[rng.integers(0, 3, size=90)]
    clf = MLPClassifier(hidden=(6, 5), activation="swish", output="sigmoid", epochs=4, patience=9)
    return clf.fit(X, labels), X


def test_round_trip_gives_identical_predictions(
    fitted: tuple[MLPClassifier, np.ndarray], tmp_path: Path
) -> None:
    clf, X = fitted
    path = tmp_path / "model.npz"
    clf.save(path)
    loaded = MLPClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.history_ == clf.history_
    assert loaded.best_epoch_ == clf.best_epoch_ and loaded.n_params_ == clf.n_params_
    expected = {**clf.get_params(), "callback": None}
    assert loaded.get_params() == expected
    assert [f.name for f in tmp_path.iterdir()] == ["model.npz"]


def test_file_holds_no_pickle_and_json_header(
    fitted: tuple[MLPClassifier, np.ndarray], tmp_path: Path
) -> None:
    clf, _ = fitted
    path = tmp_path / "model.npz"
    clf.save(path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(str(archive[HEADER_KEY]))
        assert {archive[name].dtype.kind for name in archive.files} <= {"f", "U"}
    assert header["format"] == FILE_KIND and header["params"]["activation"] == "swish"


def test_generator_random_state_saves_as_zero(tmp_path: Path) -> None:
    rng = as_generator(1)
    X = rng.random((30, 4), dtype=np.float32)
    clf = MLPClassifier(hidden=(3,), epochs=1, random_state=rng).fit(X, np.arange(30) % 2)
    clf.save(tmp_path / "m.npz")
    assert MLPClassifier.load(tmp_path / "m.npz").random_state == 0


def test_unfitted_model_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not fitted"):
        MLPClassifier().save(tmp_path / "m.npz")


def _rewrite(source: Path, target: Path, edit: dict[str, np.ndarray]) -> Path:
    with np.load(source, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays.update(edit)
    np.savez(target, **arrays)
    return target


def _write_npy(target: Path) -> None:
    with target.open("wb") as fh:  # a handle keeps np.save from appending ".npy"
        np.save(fh, np.zeros(3))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda d, good: d.joinpath("t.npz").write_bytes(b"not a zip") and None, id="text"
        ),
        pytest.param(lambda d, good: _write_npy(d / "t.npz"), id="npy"),
        pytest.param(lambda d, good: np.savez(d / "t.npz", a=np.zeros(3)), id="foreign-npz"),
        pytest.param(
            lambda d, good: d.joinpath("t.npz").write_bytes(good.read_bytes()[:300]), id="truncated"
        ),
        pytest.param(
            lambda d, good: _rewrite(good, d / "t.npz", {"W0": np.zeros((3, 3), np.float32)}),
            id="wrong-shape",
        ),
        pytest.param(
            lambda d, good: _rewrite(good, d / "t.npz", {"b1": np.zeros(5, np.float64)}),
            id="wrong-dtype",
        ),
        pytest.param(
            lambda d, good: _rewrite(good, d / "t.npz", {"W9": np.zeros(1, np.float32)}),
            id="extra-array",
        ),
        pytest.param(
            lambda d, good: _rewrite(good, d / "t.npz", {HEADER_KEY: np.array("{bad json")}),
            id="bad-json",
        ),
        pytest.param(
            lambda d, good: _rewrite(
                good, d / "t.npz", {HEADER_KEY: np.array(json.dumps({"format": "other"}))}
            ),
            id="other-format",
        ),
        pytest.param(
            lambda d, good: _rewrite(
                good,
                d / "t.npz",
                {HEADER_KEY: np.array(json.dumps({"format": FILE_KIND, "version": 1}))},
            ),
            id="missing-keys",
        ),
    ],
)
def test_foreign_or_corrupt_files_raise_value_error(
    make: object, fitted: tuple[MLPClassifier, np.ndarray], tmp_path: Path
) -> None:
    good = tmp_path / "good.npz"
    fitted[0].save(good)
    make(tmp_path, good)  # type: ignore[operator]
    with pytest.raises(ValueError, match=r"t\.npz"):
        MLPClassifier.load(tmp_path / "t.npz")


def test_pickled_object_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.npz"
    np.savez(path, **{HEADER_KEY: np.array([{"format": FILE_KIND}], dtype=object)})
    with pytest.raises(ValueError, match=r"t\.npz"):
        read_npz(path, FILE_KIND)
    assert zipfile.is_zipfile(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        MLPClassifier.load(tmp_path / "absent.npz")


def test_write_refuses_object_arrays_and_reserved_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="objects"):
        write_npz(tmp_path / "a.npz", "k", {}, {"x": np.array([None], dtype=object)})
    with pytest.raises(ValueError, match="reserved"):
        write_npz(tmp_path / "a.npz", "k", {}, {HEADER_KEY: np.zeros(1)})
    assert list(tmp_path.iterdir()) == []
