"""EMNIST Letters: read every form users have, validated, as upright images with classes 0..25.

Owns the readers for NIST's idx files (gzipped or not), the Kaggle CSV, NIST's `emnist-letters.mat`
and the subset `.npz` files of shared/data/emnist, the search for them under a data root, the seeded
stratified train/validation split and the flattening to MLP features. Every EMNIST form stores each
image transposed; readers return it upright (`x[i].T`), and labels 1..26 (a/A … z/Z) become 0..25,
indices into `LETTERS`. Where NIST's complete image files cannot be had, the subset protocol applies
— EMNIST-L subset: train/validate on the 8,880 subset, test on the 10,467 subset (classes a–s; a–l
complete) — so its figures are not comparable with full-EMNIST ones. Imports NumPy and the standard
library only (scipy lazily, inside `read_mat`); never torch.
"""

from __future__ import annotations

import gzip
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from ocrlab.data.paths import default_data_root
from ocrlab.errors import ConfigError, DatasetError

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NIST_URL = "https://www.nist.gov/itl/products-and-services/emnist-dataset"
SIDE = 28
IMAGES_MAGIC = 2051  # idx header 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # idx header 0x00000801: unsigned bytes, 1 dimension

Split = Literal["train", "test"]
Protocol = Literal["auto", "full", "subset"]
T = TypeVar("T", bound=np.generic)


@dataclass(frozen=True, eq=False)
class LetterSet:
    """Letter images and their classes, checked on construction.

    images: uint8 (N, 28, 28), upright, white ink on black; labels: int64 (N,) in 0..25, so
    `LETTERS[label]` names the letter; source: the form and file they came from, e.g.
    `subset:/data/emnist/emnist-letters-test-subset.npz`.
    """

    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]
    source: str

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.images.dtype != np.uint8 or self.images.shape != (n, SIDE, SIDE):
            raise DatasetError(
                f"{self.source}: images must be uint8 ({n}, 28, 28), "
                f"found {self.images.dtype} {self.images.shape}."
            )
        if self.labels.dtype != np.int64 or self.labels.ndim != 1:
            raise DatasetError(f"{self.source}: labels must be a 1-D int64 array.")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(LETTERS)):
            raise DatasetError(f"{self.source}: labels must lie in 0..25.")


def _whole_numbers(a: npt.NDArray[Any], lo: int, hi: int, what: str, source: str) -> None:
    """Raise unless every value is a whole number in lo..hi (CSV and .mat values are not uint8)."""
    if a.dtype.kind not in "iuf":
        raise DatasetError(f"{source}: {what} must be numbers, found dtype {a.dtype}.")
    bad = ~((a >= lo) & (a <= hi))
    if a.dtype.kind == "f":
        bad |= np.isfinite(a) & (a != np.round(a))
    if bad.any():
        raise DatasetError(
            f"{source}: {what} must be whole numbers in {lo}..{hi}, found {a[bad][0]}."
        )


def _letter_set(images: npt.NDArray[Any], labels: npt.NDArray[Any], source: str) -> LetterSet:
    """Validate stored (transposed) images and labels 1..26; return them upright, classes 0..25."""
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise DatasetError(f"{source}: images must be 28×28, found shape {images.shape}.")
    if labels.ndim != 1:
        raise DatasetError(
            f"{source}: labels must be one number per image, found shape {labels.shape}."
        )
    if len(images) != len(labels):
        raise DatasetError(f"{source}: {len(images)} images but {len(labels)} labels.")
    if len(labels) == 0:
        raise DatasetError(f"{source} holds no images.")
    if images.dtype != np.uint8:
        _whole_numbers(images, 0, 255, "pixels", source)
    _whole_numbers(labels, 1, len(LETTERS), "labels (1 = a … 26 = z)", source)
    upright = np.ascontiguousarray(images.transpose(0, 2, 1), dtype=np.uint8)
    return LetterSet(upright, labels.astype(np.int64) - 1, source)


def read_idx(path: Path, magic: int) -> npt.NDArray[np.uint8]:
    """Return the array in one idx file (gzipped or not), shaped as its header says.

    `magic` is IMAGES_MAGIC (N×rows×cols) or LABELS_MAGIC (N); any other header, or a data length
    that does not match the header, raises DatasetError.
    """
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":  # gzip's magic; an idx file starts with two zero bytes
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}.") from exc
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DatasetError(f"{path} has magic number {found}, expected {magic}: wrong file?")
    if len(data) < header:
        raise DatasetError(f"{path} is truncated: {len(data)} bytes, shorter than an idx header.")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    size = math.prod(dims)
    if len(data) - header != size:
        raise DatasetError(
            f"{path} is truncated or corrupt: its header {dims} promises {size} bytes of data, "
            f"found {len(data) - header}."
        )
    return np.frombuffer(data, np.uint8, count=size, offset=header).reshape(dims)


def read_idx_pair(images_path: Path, labels_path: Path) -> LetterSet:
    """Read NIST's `emnist-letters-{split}-images-idx3-ubyte[.gz]` with its labels file."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    return _letter_set(images, labels, f"idx:{images_path}")


def read_csv(path: Path) -> LetterSet:
    """Read the Kaggle `emnist-letters-{split}.csv`: no header, each row a label then 784 pixels."""
    source = f"csv:{path}"
    try:
        rows = np.loadtxt(path, delimiter=",", dtype=np.int32, ndmin=2)
    except (OSError, ValueError, OverflowError) as exc:
        raise DatasetError(f"{source} is not a CSV of whole numbers: {exc}.") from exc
    if rows.shape[1] != 1 + SIDE * SIDE:
        raise DatasetError(f"{source}: rows must be a label and 784 pixels, not {rows.shape[1]}.")
    return _letter_set(rows[:, 1:].reshape(-1, SIDE, SIDE), rows[:, 0], source)


def read_mat(path: Path, split: Split) -> LetterSet:
    """Read one split of NIST's `emnist-letters.mat` (from matlab.zip); needs scipy.

    Layout (as scipy.io.loadmat returns it): struct `dataset` with fields train and test, each with
    `images` (N×784 uint8), `labels` (N×1, 1..26) and `writers`. A row is the upright image
    flattened column-major (MATLAB's order), byte for byte an idx3 record, so `row.reshape(28, 28)`
    is transposed here too.
    """
    try:
        from scipy.io import loadmat  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as exc:
        raise DatasetError(f"reading {path} needs scipy: pip install scipy.") from exc
    source = f"mat:{path}#{split}"
    try:
        part = loadmat(path)["dataset"][split][0, 0]
        images = np.asarray(part["images"][0, 0])
        labels = np.asarray(part["labels"][0, 0])
    except (OSError, ValueError, KeyError, IndexError, NotImplementedError) as exc:
        raise DatasetError(f"{path} lacks NIST's emnist-letters.mat layout ({exc}).") from exc
    if images.ndim != 2 or images.shape[1] != SIDE * SIDE:
        raise DatasetError(f"{source}: images must be N×784, found shape {images.shape}.")
    return _letter_set(images.reshape(-1, SIDE, SIDE), labels.reshape(-1), source)


def read_subset(path: Path) -> LetterSet:
    """Read a subset `.npz` of shared/data/emnist: `x` uint8 N×28×28 (transposed), `y` 1..26."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            images, labels = npz["x"], npz["y"]
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path} is not a subset .npz with arrays x and y ({exc}).") from exc
    return _letter_set(images, labels, f"subset:{path}")


def _first(root: Path, *names: str) -> Path | None:
    """Return the first of `names` in root or in the gzip/ or matlab/ folders of NIST's zips."""
    for folder in (root, root / "gzip", root / "matlab"):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def _idx_names(split: Split) -> tuple[str, str]:
    return f"emnist-letters-{split}-images-idx3-ubyte", f"emnist-letters-{split}-labels-idx1-ubyte"


def _load_full(root: Path, split: Split) -> LetterSet | None:
    """Load the first complete full-size form found (idx, then Kaggle CSV, then .mat), or None."""
    images, labels = (_first(root, f"{name}.gz", name) for name in _idx_names(split))
    if images is not None and labels is not None:
        return read_idx_pair(images, labels)
    csv = _first(root, f"emnist-letters-{split}.csv")
    if csv is not None:
        return read_csv(csv)
    mat = _first(root, "emnist-letters.mat")
    return None if mat is None else read_mat(mat, split)


def _missing_message(root: Path, split: Split, protocol: Protocol) -> str:
    subset = f"emnist-letters-{split}-subset.npz"
    if protocol == "subset":
        return (
            f"{subset} is not in {root}; copy it there from shared/data/emnist, or use protocol "
            f"'full' with NIST's files from gzip.zip ({NIST_URL})."
        )
    missing = [f"{n}.gz" for n in _idx_names(split) if _first(root, f"{n}.gz", n) is None]
    either = f", or put {subset} there for the subset protocol" if protocol == "auto" else ""
    return (
        f"EMNIST Letters {split} data not found: download gzip.zip from {NIST_URL} and put "
        f"{' and '.join(missing)} in {root} (or set OCRLAB_DATA to a folder whose emnist/ holds "
        f"them){either}."
    )


def load_emnist_letters(
    split: Split, root: Path | None = None, protocol: Protocol = "auto"
) -> LetterSet:
    """Load one EMNIST Letters split from `root` (default: `default_data_root() / "emnist"`).

    protocol "full" reads NIST's complete files (idx, Kaggle CSV or .mat), "subset" the subset
    `.npz`, "auto" the full files where present, else the subset. Missing files raise a
    DatasetError that names them.
    """
    if split not in ("train", "test"):
        raise ConfigError(f"split must be 'train' or 'test', got {split!r}.")
    if protocol not in ("auto", "full", "subset"):
        raise ConfigError(f"protocol must be 'auto', 'full' or 'subset', got {protocol!r}.")
    folder = default_data_root() / "emnist" if root is None else Path(root)
    if protocol != "subset":
        full = _load_full(folder, split)
        if full is not None:
            return full
    subset = None if protocol == "full" else _first(folder, f"emnist-letters-{split}-subset.npz")
    if subset is None:
        raise DatasetError(_missing_message(folder, split, protocol))
    return read_subset(subset)


def split_train_val(
    images: npt.NDArray[T],
    labels: npt.NDArray[np.int64],
    *,
    val_fraction: float = 0.2,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[T], npt.NDArray[np.int64], npt.NDArray[T], npt.NDArray[np.int64]]:
    """Split into (train_images, train_labels, val_images, val_labels), stratified by class.

    Each class gives round(n × val_fraction) random members to validation, so the 80/20 split of
    "Letter Recognition" keeps class balance; both parts keep the input order, and the same
    generator state gives the same split.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}.")
    if labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"need one label per image, got {len(images)} images and {labels.shape}.")
    is_val = np.zeros(len(labels), dtype=bool)
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        is_val[rng.permutation(members)[: round(len(members) * val_fraction)]] = True
    if is_val.all() or not is_val.any():
        raise ValueError(f"{len(labels)} samples are too few to split by {val_fraction}.")
    return images[~is_val], labels[~is_val], images[is_val], labels[is_val]


def to_features(images: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Flatten uint8 (N, 28, 28) images to float32 (N, 784) in [0, 1], as "Letter Recognition"
    scales pixels."""
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"images must be uint8 (N, H, W), got {images.dtype} {images.shape}.")
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
