"""EMNIST Letters readers: every on-disk form, orientation, labels, validation, discovery, splits.

Fixtures are written in each EMNIST format at test time; one test reads the real subset in
shared/data/emnist and fails (never skips silently) when it is absent, unless
OCRLAB_NO_SHARED_DATA=1.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.io  # type: ignore[import-untyped, unused-ignore]

from ocrlab.data.emnist import (
    LETTERS,
    NIST_URL,
    LetterSet,
    load_emnist_letters,
    read_csv,
    read_idx,
    read_idx_pair,
    read_mat,
    read_subset,
    split_train_val,
    to_features,
)
from ocrlab.data.paths import default_data_root
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.rng import make_rng

SHARED = Path(
    os.environ.get("OCRLAB_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data"
)
Array = npt.NDArray[Any]
LABELS = np.array([1, 26, 2, 12, 1, 9], dtype=np.uint8)


def upright_images(n: int = len(LABELS)) -> npt.NDArray[np.uint8]:
    """An 'L' (stem down the left, foot along the bottom) in every image, plus seeded noise."""
    images = make_rng(0, 0).integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
    images[:, 3:22, 4] = 255
    images[:, 21, 4:18] = 255
    return images


def stored(images: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """EMNIST's on-disk orientation: each image transposed."""
    return np.ascontiguousarray(images.transpose(0, 2, 1))


def write_idx(path: Path, array: Array, magic: int, cut: int = 0) -> Path:
    """Write an idx file with a correct header for `array`, gzipped if the name ends in .gz."""
    data = struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.tobytes()
    data = data[: len(data) - cut]
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_pair(
    root: Path, split: str, images: Array, labels: Array, suffix: str = ".gz"
) -> tuple[Path, Path]:
    return (
        write_idx(root / f"emnist-letters-{split}-images-idx3-ubyte{suffix}", images, 2051),
        write_idx(root / f"emnist-letters-{split}-labels-idx1-ubyte{suffix}", labels, 2049),
    )


def write_csv(path: Path, images: Array, labels: Array) -> Path:
    rows = np.column_stack([labels, images.reshape(len(images), -1)])
    np.savetxt(path, rows, fmt="%d", delimiter=",")
    return path


def write_mat(path: Path, images: Array, labels: Array) -> Path:
    """NIST's layout: dataset.{train,test}.{images N×784 uint8, labels N×1 double, writers}."""
    part = {
        "images": images.reshape(len(images), -1),
        "labels": labels.astype(np.float64)[:, None],
        "writers": np.zeros((len(images), 1)),
    }
    test = {**part, "labels": (27 - labels).astype(np.float64)[:, None]}
    scipy.io.savemat(path, {"dataset": {"train": part, "test": test, "mapping": np.zeros((26, 3))}})
    return path


def write_npz(path: Path, images: Array, labels: Array) -> Path:
    np.savez(path, x=images, y=labels, idx=np.arange(len(labels), dtype=np.int32))
    return path


def assert_fixture(letters: LetterSet, labels: npt.NDArray[np.uint8] = LABELS) -> None:
    assert letters.images.dtype == np.uint8 and letters.labels.dtype == np.int64
    np.testing.assert_array_equal(letters.images, upright_images())
    np.testing.assert_array_equal(letters.labels, labels.astype(np.int64) - 1)


def test_idx_gz_comes_back_upright_with_labels_0_to_25(tmp_path: Path) -> None:
    images, labels = write_pair(tmp_path, "train", stored(upright_images()), LABELS)
    letters = read_idx_pair(images, labels)
    assert_fixture(letters)
    first = letters.images[0]
    assert (first[3:22, 4] == 255).all() and (first[21, 4:18] == 255).all()  # stem, then foot
    assert "".join(LETTERS[i] for i in letters.labels) == "AZBLAI"
    assert letters.source == f"idx:{images}"


def test_every_form_reads_the_same(tmp_path: Path) -> None:
    x, y = stored(upright_images()), LABELS
    assert_fixture(read_idx_pair(*write_pair(tmp_path, "test", x, y, suffix="")))
    assert_fixture(read_csv(write_csv(tmp_path / "emnist-letters-train.csv", x, y)))
    assert_fixture(read_subset(write_npz(tmp_path / "s.npz", x, y)))
    mat = write_mat(tmp_path / "emnist-letters.mat", x, y)
    assert_fixture(read_mat(mat, "train"))
    assert_fixture(read_mat(mat, "test"), 27 - LABELS)


def test_full_protocol_finds_each_form(tmp_path: Path) -> None:
    x = stored(upright_images())
    csv, mat, unzipped = (tmp_path / name for name in ("csv", "mat", "unzipped"))
    for folder in (csv, mat, unzipped / "gzip"):
        folder.mkdir(parents=True)
    write_csv(csv / "emnist-letters-train.csv", x, LABELS)
    write_mat(mat / "emnist-letters.mat", x, LABELS)
    write_pair(unzipped / "gzip", "train", x, LABELS)  # gzip.zip unpacked in place
    for root, form in ((csv, "csv:"), (mat, "mat:"), (unzipped, "idx:")):
        letters = load_emnist_letters("train", root, "full")
        assert letters.source.startswith(form)
        assert_fixture(letters)


def test_auto_prefers_full_files_then_the_subset(tmp_path: Path) -> None:
    x = stored(upright_images())
    write_npz(tmp_path / "emnist-letters-train-subset.npz", x, LABELS)
    write_idx(tmp_path / "emnist-letters-train-labels-idx1-ubyte.gz", LABELS, 2049)
    assert load_emnist_letters("train", tmp_path).source.startswith("subset:")  # labels alone
    write_pair(tmp_path, "train", x, LABELS)
    assert load_emnist_letters("train", tmp_path).source.startswith("idx:")
    assert load_emnist_letters("train", tmp_path, "subset").source.startswith("subset:")


def test_default_root_is_ocrlab_data_emnist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "emnist").mkdir()
    write_pair(tmp_path / "emnist", "test", stored(upright_images()), LABELS)
    monkeypatch.setenv("OCRLAB_DATA", str(tmp_path))
    assert default_data_root() == tmp_path
    assert_fixture(load_emnist_letters("test"))


def test_default_root_falls_back_to_shared_then_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OCRLAB_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    assert default_data_root() == tmp_path / "home" / ".cache" / "ocrlab" / "data"
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert default_data_root() == tmp_path / "shared" / "data"


def test_missing_files_say_what_to_get_and_where(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as auto:
        load_emnist_letters("train", tmp_path)
    message = str(auto.value)
    for part in (
        "emnist-letters-train-images-idx3-ubyte.gz",
        "emnist-letters-train-labels-idx1-ubyte.gz",
        "gzip.zip",
        NIST_URL,
        str(tmp_path),
        "emnist-letters-train-subset.npz",
    ):
        assert part in message
    write_idx(tmp_path / "emnist-letters-train-labels-idx1-ubyte.gz", LABELS, 2049)
    with pytest.raises(
        DatasetError, match=r"put emnist-letters-train-images-idx3-ubyte\.gz in"
    ) as full:
        load_emnist_letters("train", tmp_path, "full")
    assert "labels" not in str(full.value) and "subset" not in str(full.value)
    with pytest.raises(DatasetError, match=r"emnist-letters-test-subset\.npz is not in"):
        load_emnist_letters("test", tmp_path, "subset")


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="split"):
        load_emnist_letters("val", tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="protocol"):
        load_emnist_letters("train", tmp_path, "all")  # type: ignore[arg-type]


def test_idx_validation(tmp_path: Path) -> None:
    x = stored(upright_images())
    images, labels = write_pair(tmp_path, "train", x, LABELS)
    with pytest.raises(DatasetError, match="magic number 2049, expected 2051"):
        read_idx_pair(labels, labels)
    with pytest.raises(DatasetError, match="6 images but 5 labels"):
        read_idx_pair(images, write_idx(tmp_path / "l5.gz", LABELS[:5], 2049))
    with pytest.raises(DatasetError, match=r"must be 28×28, found shape \(6, 28, 27\)"):
        read_idx_pair(write_idx(tmp_path / "narrow.gz", x[:, :, :27], 2051), labels)
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        read_idx(write_idx(tmp_path / "cut.gz", x, 2051, cut=100), 2051)
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(write_idx(tmp_path / "header", x, 2051, cut=x.size + 4), 2051)
    cut_gzip = tmp_path / "cut-stream.gz"
    cut_gzip.write_bytes(images.read_bytes()[:-20])
    with pytest.raises(DatasetError, match="cannot read"):
        read_idx(cut_gzip, 2051)


@pytest.mark.parametrize("bad", [0, 27])
def test_labels_outside_1_to_26_are_rejected(tmp_path: Path, bad: int) -> None:
    labels = LABELS.copy()
    labels[3] = bad
    x = stored(upright_images())
    with pytest.raises(DatasetError, match=f"labels .* in 1..26, found {bad}"):
        read_idx_pair(*write_pair(tmp_path, "train", x, labels))
    with pytest.raises(DatasetError, match=f"found {bad}"):
        read_csv(write_csv(tmp_path / "l.csv", x, labels))


def test_csv_npz_and_mat_validation(tmp_path: Path) -> None:
    x = stored(upright_images())
    short = tmp_path / "short.csv"
    short.write_text("1,0,0,0\n")
    with pytest.raises(DatasetError, match="label and 784 pixels, not 4"):
        read_csv(short)
    header = tmp_path / "header.csv"
    header.write_text("label," + ",".join(["px"] * 784) + "\n")
    with pytest.raises(DatasetError, match="not a CSV of whole numbers"):
        read_csv(header)
    bright = write_csv(tmp_path / "bright.csv", x.astype(np.int32) + 1, LABELS)
    with pytest.raises(DatasetError, match=r"pixels must be whole numbers in 0\.\.255, found 256"):
        read_csv(bright)
    no_y = tmp_path / "no_y.npz"
    np.savez(no_y, x=x)
    with pytest.raises(DatasetError, match="arrays x and y"):
        read_subset(no_y)
    halves = write_npz(tmp_path / "halves.npz", x / 2, LABELS)
    with pytest.raises(DatasetError, match="pixels must be whole numbers"):
        read_subset(halves)
    with pytest.raises(DatasetError, match="labels must be one number per image"):
        read_subset(write_npz(tmp_path / "2d.npz", x, LABELS[:, None]))
    odd = tmp_path / "odd.mat"
    scipy.io.savemat(odd, {"dataset": {"train": {"images": x[:, :, :27].reshape(6, -1)}}})
    with pytest.raises(DatasetError, match="layout"):
        read_mat(odd, "test")
    with pytest.raises(DatasetError, match="layout"):
        read_mat(odd, "train")  # no labels field


def test_letter_set_checks_its_invariants() -> None:
    images = upright_images()
    with pytest.raises(DatasetError, match=r"0\.\.25"):
        LetterSet(images, np.array([0, 1, 2, 3, 4, 26], dtype=np.int64), "test")
    with pytest.raises(DatasetError, match="uint8"):
        LetterSet(images[:5], np.zeros(6, dtype=np.int64), "test")


def test_split_is_stratified_disjoint_and_seeded() -> None:
    labels = np.repeat(np.arange(26, dtype=np.int64), np.arange(5, 31))
    images = np.arange(len(labels), dtype=np.int64)  # each image is its own index
    xt, yt, xv, yv = split_train_val(images, labels, rng=make_rng(1, 2))
    assert sorted(np.concatenate([xt, xv]).tolist()) == images.tolist()
    np.testing.assert_array_equal(labels[xt], yt)
    np.testing.assert_array_equal(labels[xv], yv)
    counts = np.arange(5, 31)
    np.testing.assert_array_equal(np.bincount(yv, minlength=26), [round(n * 0.2) for n in counts])
    again = split_train_val(images, labels, rng=make_rng(1, 2))
    np.testing.assert_array_equal(again[2], xv)
    other = split_train_val(images, labels, rng=make_rng(2, 2))
    assert not np.array_equal(other[2], xv)
    assert len(split_train_val(images, labels, val_fraction=0.5, rng=make_rng(1, 2))[3]) > len(yv)
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_train_val(images, labels, val_fraction=1.0, rng=make_rng(1, 2))
    with pytest.raises(ValueError, match="too few"):
        split_train_val(images[:2], labels[:2], rng=make_rng(1, 2))
    with pytest.raises(ValueError, match="one label per image"):
        split_train_val(images[:3], labels[:2], rng=make_rng(1, 2))


def test_to_features_is_float32_in_unit_range() -> None:
    images = upright_images()
    images[0, 0, 0] = 0
    features = to_features(images)
    assert features.dtype == np.float32 and features.shape == (6, 784)
    assert features.min() == 0.0 and features.max() == 1.0
    np.testing.assert_allclose(features[1].reshape(28, 28) * 255, images[1], atol=1e-4)
    with pytest.raises(ValueError, match="uint8"):
        to_features(images.astype(np.float32))


def shared_emnist() -> Path:
    """The real subset folder; a missing one fails the test unless OCRLAB_NO_SHARED_DATA=1."""
    folder = SHARED / "emnist"
    if not folder.is_dir():
        if os.environ.get("OCRLAB_NO_SHARED_DATA") == "1":
            pytest.skip(f"OCRLAB_NO_SHARED_DATA=1 and {folder} is absent")
        pytest.fail(
            f"{folder} is missing: point OCRLAB_DATA at the shared data folder, or set "
            "OCRLAB_NO_SHARED_DATA=1 to run without it"
        )
    return folder


def test_real_subset_matches_sources_md() -> None:
    folder = shared_emnist()
    train = load_emnist_letters("train", folder)  # auto: label files alone → subset
    test = load_emnist_letters("test", folder, "subset")
    assert train.source.startswith("subset:") and test.source.startswith("subset:")
    assert train.images.shape == (8880, 28, 28) and test.images.shape == (10467, 28, 28)
    train_counts = np.bincount(train.labels, minlength=26)
    assert train_counts.min() == 306 and train_counts.max() == 364
    expected = [800] * 12 + [438, 82, 78, 71, 83, 80, 35] + [0] * 7
    np.testing.assert_array_equal(np.bincount(test.labels, minlength=26), expected)
    for split, letters in (("train", train), ("test", test)):
        official = read_idx(folder / f"emnist-letters-{split}-labels-idx1-ubyte.gz", 2049)
        with np.load(folder / f"emnist-letters-{split}-subset.npz") as npz:
            idx = npz["idx"]
        np.testing.assert_array_equal(letters.labels, official[idx].astype(np.int64) - 1)
    ink = test.images[test.labels == LETTERS.index("I")] > 127
    rows, cols = ink.any(axis=2).sum(axis=1), ink.any(axis=1).sum(axis=1)
    assert np.median(rows) > 1.5 * np.median(cols)  # upright I and l are tall, not wide
