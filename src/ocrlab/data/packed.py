"""Packed datasets: images as uint8 `.npy` shards, memory-mapped for random access.

The loader of "Breaking CAPTCHA" crashed after 60,000 decoded images. Shards cost nothing until
touched: `PackedImages` maps each shard read-only, so 100,000+ images open in milliseconds and a
batch costs only its own bytes; loading a whole set reads the files straight into its one array
instead, so the map's pages never count against the process. Each shard is written atomically, which
is also what makes an interrupted run resumable shard by shard. NumPy and the standard library only.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

from ocrlab.data.atomic import atomic_write
from ocrlab.errors import DatasetError

SHARD_DIR = "shards"
_REF = re.compile(r"^shards/(\d{5})\.npy#(\d+)$")


def shard_path(root: Path, shard: int) -> Path:
    return root / SHARD_DIR / f"{shard:05d}.npy"


def shard_ref(shard: int, row: int) -> str:
    """The manifest `path` of row `row` in shard `shard`, e.g. `shards/00002.npy#17`."""
    return f"{SHARD_DIR}/{shard:05d}.npy#{row}"


def parse_ref(ref: str) -> tuple[int, int]:
    match = _REF.match(ref)
    if not match:
        raise DatasetError(f"not a packed image reference: {ref!r}")
    return int(match[1]), int(match[2])


def write_shard(root: Path, shard: int, images: np.ndarray) -> None:
    """Write an (N, H, W, C) uint8 array as shard number `shard`, atomically."""
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"shards hold (N, H, W, C) uint8 arrays, got {images.dtype} {images.shape}"
        )
    atomic_write(shard_path(root, shard), lambda fh: np.save(fh, images, allow_pickle=False))


class PackedImages:
    """Random access to the images of a packed dataset, in manifest order, memory-mapped."""

    def __init__(self, root: Path, refs: Sequence[str]) -> None:
        self.root = root
        self._shards: dict[int, np.ndarray] = {}
        self._offsets: dict[int, int] = {}
        """Where each shard's pixels start in its file (after the .npy header)."""
        parsed = [parse_ref(r) for r in refs]
        self._shard_of = np.array([s for s, _ in parsed], dtype=np.int64)
        self._row_of = np.array([r for _, r in parsed], dtype=np.int64)
        for shard in sorted(set(self._shard_of.tolist())):
            arr = self._open(shard)
            rows = self._row_of[self._shard_of == shard]
            if rows.max() >= len(arr):
                raise DatasetError(
                    f"{shard_path(root, shard)} has {len(arr)} rows, manifest needs more"
                )
        shapes = {a.shape[1:] for a in self._shards.values()}
        if len(shapes) > 1:
            raise DatasetError(f"shards of {root} disagree on image shape: {sorted(shapes)}")
        self.shape: tuple[int, ...] = shapes.pop() if shapes else (0, 0, 0)

    def _open(self, shard: int) -> np.ndarray:
        path = shard_path(self.root, shard)
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot open shard {path}: {exc}") from None
        if not isinstance(arr, np.memmap) or arr.dtype != np.uint8 or arr.ndim != 4:
            raise DatasetError(f"{path} is not a uint8 (N, H, W, C) shard")
        if not arr.flags.c_contiguous:
            raise DatasetError(f"{path} is stored in Fortran order; write shards with np.save")
        self._shards[shard], self._offsets[shard] = arr, int(arr.offset)
        return arr

    def __len__(self) -> int:
        return len(self._shard_of)

    def __getitem__(self, i: int) -> np.ndarray:
        """Image `i` as an (H, W, C) uint8 array (a copy, so the map can be closed)."""
        return np.array(self._shards[int(self._shard_of[i])][int(self._row_of[i])], dtype=np.uint8)

    def read_into(self, out: np.ndarray, start: int = 0) -> None:
        """Images `start`.. in manifest order, read from the shard files straight into `out`.

        No memory map is touched, so loading grows the process by `out` alone (the pages a map
        has read count as resident memory too). Runs of consecutive rows are one read each.
        """
        if out.dtype != np.uint8 or out.shape[1:] != self.shape or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous uint8 (n, {self.shape}) array")
        n = len(out)
        if n == 0:
            return
        shard, row = self._shard_of[start : start + n], self._row_of[start : start + n]
        cuts = np.flatnonzero((np.diff(shard) != 0) | (np.diff(row) != 1)) + 1
        bounds = [0, *cuts.tolist(), n]
        item = out[0].nbytes
        handles: dict[int, io.BufferedReader] = {}
        try:
            for a, b in pairwise(bounds):
                k = int(shard[a])
                if k not in handles:
                    handles[k] = shard_path(self.root, k).open("rb")
                fh = handles[k]
                fh.seek(self._offsets[k] + int(row[a]) * item)
                view = out[a:b].data.cast("B")
                if fh.readinto(view) != len(view):
                    raise DatasetError(f"{shard_path(self.root, k)} ended early")
        finally:
            for fh in handles.values():
                fh.close()

    def batch(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Images at `indices` as one (B, H, W, C) uint8 array."""
        out = np.empty((len(indices), *self.shape), dtype=np.uint8)
        for j, i in enumerate(indices):
            out[j] = self._shards[int(self._shard_of[i])][int(self._row_of[i])]
        return out
