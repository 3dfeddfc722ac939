"""Load any labelled image set into memory: an ocrlab dataset (PNG or packed) or a plain folder.

Labels come from the manifest for ocrlab datasets; for a plain folder, from `labels.csv`
(`file,label`), `labels.txt` (`file<TAB>label` or `file label` per line) or, failing both, the file
name (`2b827.png` → `2b827`, the convention of captcha_images_v2). Images and labels travel together
as one `ImageSet` whose row *i* is image *i*, whatever the loading order. NumPy and Pillow only.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ocrlab.data.images import Prepare, decode, decode_all, decode_readable, unreadable
from ocrlab.data.manifest import MANIFEST, read_manifest
from ocrlab.data.packed import PackedImages
from ocrlab.data.sources import is_image
from ocrlab.errors import DatasetError, ImageError

Progress = Callable[[int], None]
Shape = tuple[int, ...]
Fill = Callable[[np.ndarray, Progress | None], None]


class NoReadableImages(DatasetError):
    """Every image of a folder failed to decode; `skipped` says why, by path (a reader that goes
    on past bad images lists them and moves to the next folder)."""

    def __init__(self, root: Path, skipped: dict[str, str]) -> None:
        super().__init__(f"no readable images in {root}")
        self.skipped = skipped


@dataclass
class ImageSet:
    """Images with their labels: `images[i]` shows `texts[i]`, whose class key is `words[i]`."""

    images: np.ndarray
    """(N, H, W, C) uint8."""
    texts: list[str]
    """The text as drawn, case preserved (targets for sequence models)."""
    words: list[str]
    """The class key: the lower-case word for ocrlab sets, the label itself for folders."""
    sources: list[str]
    vocab: list[str]
    """Class keys in their canonical order (vocab.json for ocrlab sets, sorted for folders)."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Unreadable files left out (only with `skip_bad`): why each does not decode, by path."""

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: np.ndarray) -> ImageSet:
        pick = indices.tolist()
        return ImageSet(
            self.images[indices],
            [self.texts[i] for i in pick],
            [self.words[i] for i in pick],
            [self.sources[i] for i in pick],
            self.vocab,
            self.skipped,
        )


@dataclass
class _Planned:
    """A folder whose labels are read and whose images are not yet decoded: `fill` writes its
    first `len(out)` images into `out`, a slice of the one array that holds every folder (so no
    folder is ever copied)."""

    texts: list[str]
    words: list[str]
    sources: list[str]
    vocab: list[str]
    skipped: dict[str, str]
    shape: Shape
    """(H, W, C) of every image once decoded."""
    fill: Fill

    def __len__(self) -> int:
        return len(self.texts)


def load(
    root: Path,
    size: tuple[int, int] | None = None,
    workers: int = 1,
    skip_bad: bool = False,
    progress: Progress | None = None,
    mode: str = "RGB",
    prepare: Prepare = decode,
) -> ImageSet:
    """Load one dataset folder; `size` (H, W) resizes every image, else all must share one size."""
    return load_many([root], size, workers, skip_bad, progress, mode, prepare)


def load_many(
    roots: Sequence[Path],
    size: tuple[int, int] | None = None,
    workers: int = 1,
    skip_bad: bool = False,
    progress: Progress | None = None,
    mode: str = "RGB",
    prepare: Prepare = decode,
    limit: int | None = None,
) -> ImageSet:
    """Load and concatenate datasets; their images must share a size (or pass `size`).

    Every image goes through `prepare(image, size, mode)`: a model kind's one preprocessing
    (`ocrlab.runtime.preprocess.PREPROCESS`), by default `decode` (to `mode`, then resized), so
    training and reading see the same pixels. The folders are planned first and then decoded
    straight into one preallocated uint8 array, so a set costs its packed size once: no
    per-folder arrays, no concatenated copy. `limit` decodes only the first so many images (a
    look at a set, say to choose its preprocessing, costs that many, not the set).
    """
    if not roots:
        raise DatasetError("no dataset folders given")
    how = _How(size, workers, mode, prepare)
    plans = [_plan(root, how, skip_bad, limit) for root in roots]
    shapes = {p.shape for p in plans}
    if len(shapes) > 1:
        raise DatasetError(f"datasets have different image sizes {sorted(shapes)}; pass a size")
    left = sum(len(p) for p in plans) if limit is None else max(limit, 0)
    counts = []
    for p in plans:
        counts.append(min(len(p), left))
        left -= counts[-1]
    images = np.empty((sum(counts), *plans[0].shape), dtype=np.uint8)
    start = 0
    for p, n in zip(plans, counts, strict=True):
        if n:
            p.fill(images[start : start + n], progress)
        start += n
    return ImageSet(
        images,
        [t for p, n in zip(plans, counts, strict=True) for t in p.texts[:n]],
        [w for p, n in zip(plans, counts, strict=True) for w in p.words[:n]],
        [x for p, n in zip(plans, counts, strict=True) for x in p.sources[:n]],
        list(dict.fromkeys(w for p in plans for w in p.vocab)),
        {path: why for p in plans for path, why in p.skipped.items()},
    )


@dataclass(frozen=True)
class _How:
    """How to decode: the size (H, W) or None, processes, mode and the preprocessing function."""

    size: tuple[int, int] | None
    workers: int
    mode: str
    prepare: Prepare

    def shape(self, first: Path | np.ndarray) -> Shape:
        """(H, W, C) of every image once decoded: the first one's."""
        return tuple(self.prepare(first, self.size, self.mode).shape)


def _plan(root: Path, how: _How, skip_bad: bool, limit: int | None = None) -> _Planned:
    """What `root` holds and how to decode it; with `skip_bad`, its readable images (the first
    `limit` of them, so a look at a set checks no more than it decodes)."""
    if root.is_file():
        raise DatasetError(
            f"{root} is a file, not a dataset folder (a folder of labelled images, or a dataset "
            "ocrlab generate wrote)"
        )
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    if (root / MANIFEST).is_file():
        return _plan_ocrlab(root, how, skip_bad, limit)
    if (root / ".incomplete").exists():
        raise DatasetError(f"{root} is an unfinished ocrlab dataset; finish it with --resume")
    return _plan_folder(root, how, skip_bad, limit)


def _plan_ocrlab(
    root: Path, how: _How, skip_bad: bool = False, limit: int | None = None
) -> _Planned:
    rows = read_manifest(root / MANIFEST)
    if not rows:
        raise DatasetError(f"{root / MANIFEST} lists no images")
    try:
        vocab = json.loads((root / "vocab.json").read_text(encoding="utf-8"))["words"]
    except (OSError, ValueError, KeyError):
        vocab = list(dict.fromkeys(r.word for r in rows))
    texts, words, sources = [r.text for r in rows], [r.word for r in rows], [r.path for r in rows]
    if rows[0].path.startswith("shards/"):
        packed = PackedImages(root, sources)

        def fill(out: np.ndarray, progress: Progress | None) -> None:
            _copy_packed(packed, out, progress, how)

        shape = how.shape(packed.batch(np.arange(1))[0])
        return _Planned(texts, words, sources, vocab, {}, shape, fill)
    paths = [root / r.path for r in rows]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DatasetError(
            f"{root / MANIFEST} names {len(missing)} missing file(s), e.g. {missing[0]}"
        )
    skipped: dict[str, str] = {}
    if skip_bad:
        keep, skipped = _readable(paths, limit)
        if not keep:
            raise NoReadableImages(root, skipped)
        texts, words = [texts[i] for i in keep], [words[i] for i in keep]
        sources, paths = [sources[i] for i in keep], [paths[i] for i in keep]
    return _Planned(texts, words, sources, vocab, skipped, *_decoder(paths, how))


def _readable(paths: Sequence[Path], limit: int | None = None) -> tuple[list[int], dict[str, str]]:
    """(indices of the images that decode, why each other does not by path), up to `limit` kept."""
    keep: list[int] = []
    skipped: dict[str, str] = {}
    for i, path in enumerate(paths):
        if limit is not None and len(keep) >= limit:
            break
        try:
            decode(path)
            keep.append(i)
        except ImageError as exc:
            skipped[str(path)] = unreadable(path, exc)
    return keep, skipped


def _decoder(paths: list[Path], how: _How) -> tuple[Shape, Fill]:
    """The decoded image shape (the first image's, when no size is given) and the filler."""

    def fill(out: np.ndarray, progress: Progress | None) -> None:
        decode_all(paths[: len(out)], how.size, how.mode, how.workers, progress, out, how.prepare)

    return how.shape(paths[0]), fill


def _copy_packed(
    packed: PackedImages, out: np.ndarray, progress: Progress | None, how: _How
) -> None:
    """Copy the first `len(out)` packed images into `out`: straight from the files when `decode`
    would leave them as they are, else through `how.prepare` (a bounded batch at a time)."""
    as_stored = how.prepare is decode and out.shape[1:] == packed.shape
    step = 1024
    for start in range(0, len(out), step):
        idx = np.arange(start, min(start + step, len(out)))
        if as_stored:
            packed.read_into(out[start : start + len(idx)], start)
        else:
            for j, im in enumerate(packed.batch(idx)):
                out[start + j] = how.prepare(im, how.size, how.mode)
        if progress is not None:
            progress(len(idx))


def image_files(folder: Path) -> list[Path]:
    """The images of `folder` (`ocrlab.data.sources.is_image`), sorted by name."""
    return sorted(p for p in folder.iterdir() if is_image(p))


def unlabelled_images(
    folders: Sequence[Path],
    labelled: Sequence[Path] = (),
    workers: int = 1,
    mode: str = "RGB",
    prepare: Prepare = decode,
) -> tuple[np.ndarray, dict[str, str]]:
    """The images of `folders` that no labels file of the `labelled` folders names (a folder
    half labelled with `ocrlab label` gives its other half), each through `prepare`; and why
    each of those left out does not decode, by path."""
    taken = {p.resolve() for root in labelled if root.is_dir() and not (root / MANIFEST).is_file()
             for p, _ in folder_labels(root, check_files=False)}  # fmt: skip
    paths = []
    for folder in folders:
        if not folder.is_dir():
            raise DatasetError(f"folder not found: {folder}")
        paths += [p for p in image_files(folder) if p.resolve() not in taken]
    images, bad = decode_readable(paths, mode, workers, prepare)
    if not len(images):
        said = f" ({len(bad)} could not be read)" if bad else ""
        raise DatasetError(f"no unlabelled images in {', '.join(map(str, folders))}{said}")
    return images, {str(paths[i]): why for i, why in bad.items()}


def folder_labels(root: Path, check_files: bool = True) -> list[tuple[Path, str]]:
    """(image path, label) pairs of a plain folder, from labels.csv, labels.txt or file names;
    `check_files` refuses labels of files that are gone (the labelling page only skips them)."""
    if (root / "labels.csv").is_file():
        pairs = _read_label_file(root, "labels.csv")
    elif (root / "labels.txt").is_file():
        pairs = _read_label_file(root, "labels.txt")
    else:
        pairs = [(p, p.stem) for p in image_files(root)]
    if not pairs:
        raise DatasetError(f"{root} has no images (.png, .jpg, ...) and no labels file")
    empty = [p.name for p, label in pairs if not label.strip()]
    if empty:
        raise DatasetError(f"{len(empty)} image(s) in {root} have an empty label, e.g. {empty[0]}")
    missing = [p for p, _ in pairs if check_files and not p.is_file()]
    if missing:
        raise DatasetError(
            f"the labels of {root} name {len(missing)} missing file(s), e.g. {missing[0].name}"
        )
    return pairs


def _read_label_file(root: Path, name: str) -> list[tuple[Path, str]]:
    try:
        text = (root / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {root / name}: {exc}") from None
    if name.endswith(".csv"):
        rows = [r for r in csv.reader(io.StringIO(text)) if r]
        if rows and rows[0][:2] in (["file", "label"], ["path", "label"], ["filename", "text"]):
            rows = rows[1:]
    else:
        rows = [
            line.split("\t", 1) if "\t" in line else line.split(None, 1)
            for line in text.splitlines()
            if line.strip()
        ]
    bad = [r for r in rows if len(r) != 2]
    if bad:
        raise DatasetError(f"{root / name}: expected 'file,label' rows, got {bad[0]}")
    pairs = [(root / f.strip(), label.strip()) for f, label in rows]
    inside = os.path.abspath(root)
    outside = [p for p, _ in pairs
               if os.path.commonpath([inside, os.path.abspath(p)]) != inside]  # fmt: skip
    if outside:  # a labels file from elsewhere must not open files outside its folder
        raise DatasetError(f"{root / name} names a file outside {root}: {outside[0]}")
    return pairs


def _plan_folder(root: Path, how: _How, skip_bad: bool, limit: int | None = None) -> _Planned:
    pairs, skipped = folder_labels(root), dict[str, str]()
    if skip_bad:
        keep, skipped = _readable([p for p, _ in pairs], limit)
        if not keep:
            raise NoReadableImages(root, skipped)
        pairs = [pairs[i] for i in keep]
    texts = [label for _, label in pairs]
    names = [p.name for p, _ in pairs]
    paths = [p for p, _ in pairs]
    return _Planned(texts, texts, names, sorted(set(texts)), skipped, *_decoder(paths, how))
