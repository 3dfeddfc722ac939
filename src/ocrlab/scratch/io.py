"""Pickle-free `.npz` files holding named arrays plus a JSON header, written atomically.

A model file is a plain NumPy archive: the weights as arrays and the header (format tag, version,
hyperparameters, history) as JSON in a 0-d unicode array, read back with `allow_pickle=False` so
loading a file can never run code. Anything that is not such a file raises ValueError naming the
path. NumPy and the standard library only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .layers import F32

HEADER_KEY = "__header__"
FORMAT_VERSION = 1
_F32 = np.dtype(np.float32)


def write_npz(
    path: str | os.PathLike[str],
    kind: str,
    header: dict[str, Any],
    arrays: dict[str, npt.NDArray[Any]],
) -> Path:
    """Write `arrays` and a JSON `header` tagged with `kind` to exactly `path` (no suffix added)."""
    target = Path(path)
    if HEADER_KEY in arrays:
        raise ValueError(f"array name {HEADER_KEY!r} is reserved for the header")
    bad = [name for name, a in arrays.items() if a.dtype.hasobject]
    if bad:
        raise ValueError(f"arrays {bad} hold Python objects, which cannot be saved without pickle")
    text = json.dumps({"format": kind, "version": FORMAT_VERSION, **header}, allow_nan=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a crash never leaves a half-written model behind.
    tmp = target.parent / f".{target.name}.{os.urandom(6).hex()}.tmp"
    try:
        with open(tmp, "xb") as fh:
            # Object arrays were refused above, so nothing in the archive is pickled.
            contents: dict[str, Any] = {HEADER_KEY: np.array(text), **arrays}
            np.savez(fh, **contents)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def read_npz(
    path: str | os.PathLike[str], kind: str
) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """Read a file written by `write_npz` with the same `kind`: (header, arrays).

    Raises FileNotFoundError for a missing path and ValueError for anything else that is not ours.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no such model file: {source}")
    try:
        # Opened here, not by np.load, so the file is closed even when a corrupt zip raises.
        with open(source, "rb") as fh:
            loaded = np.load(fh, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not an archive")
            with loaded as archive:
                arrays = {name: archive[name] for name in archive.files}
    except Exception as exc:  # a corrupt archive fails in zipfile, zlib or NumPy, each its own way
        # NumPy takes any other file for a pickle and suggests allow_pickle: never for a model.
        why = "it is not an .npz archive" if "pickle" in str(exc) else exc
        raise ValueError(f"{source} is not a readable .npz model file ({why})") from exc
    raw = arrays.pop(HEADER_KEY, None)
    if raw is None or raw.shape != () or raw.dtype.kind != "U":
        raise ValueError(f"{source} has no ocrlab header; it was not written by ocrlab")
    try:
        header = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source} has a corrupt header ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != kind:
        found = header.get("format") if isinstance(header, dict) else None
        raise ValueError(f"{source} holds {found!r}, not {kind!r}")
    if header.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{source} has format version {header.get('version')!r}, not {FORMAT_VERSION}"
        )
    return header, arrays


def layer_arrays(weights: Sequence[tuple[F32, F32]]) -> dict[str, npt.NDArray[Any]]:
    """Name each Dense layer's weight W{i} and bias b{i} for `write_npz`."""
    named: dict[str, npt.NDArray[Any]] = {}
    for i, (w, b) in enumerate(weights):
        named[f"W{i}"], named[f"b{i}"] = w, b
    return named


def read_layer_arrays(
    arrays: dict[str, npt.NDArray[Any]], sizes: Sequence[int]
) -> list[tuple[F32, F32]]:
    """The float32 (W, b) pairs of Dense layers joining `sizes`; ValueError on any mismatch."""
    expected = {f"{kind}{i}" for i in range(len(sizes) - 1) for kind in "Wb"}
    if set(arrays) != expected:
        raise ValueError(f"expected arrays {sorted(expected)}, found {sorted(arrays)}")
    weights = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        w, b = arrays[f"W{i}"], arrays[f"b{i}"]
        if w.shape != (fan_in, fan_out) or b.shape != (fan_out,) or {w.dtype, b.dtype} != {_F32}:
            raise ValueError(f"layer {i} has {w.shape} {w.dtype} and {b.shape} {b.dtype} arrays")
        weights.append((w, b))
    return weights
