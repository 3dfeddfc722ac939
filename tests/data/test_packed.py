from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocrlab.data.manifest import Row, read_manifest, write_manifest
from ocrlab.data.packed import PackedImages, parse_ref, shard_ref, write_shard
from ocrlab.errors import DatasetError


def _labelled_images(n: int) -> np.ndarray:
    """Images that encode their own index, so any misalignment shows."""
    return np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 4, 6, 3)).copy()


def test_packed_images_follow_the_manifest_order(tmp_path: Path) -> None:
    (tmp_path / "shards").mkdir()
    images = _labelled_images(25)
    for k in range(3):
        write_shard(tmp_path, k, images[k * 10 : (k + 1) * 10])
    refs = [shard_ref(i // 10, i % 10) for i in range(25)][::-1]
    packed = PackedImages(tmp_path, refs)
    assert len(packed) == 25 and packed.shape == (4, 6, 3)
    assert [int(packed[i][0, 0, 0]) for i in range(25)] == list(range(24, -1, -1))
    assert packed.batch(np.array([0, 24]))[:, 0, 0, 0].tolist() == [24, 0]


def test_read_into_keeps_any_manifest_order(tmp_path: Path) -> None:
    (tmp_path / "shards").mkdir()
    images = _labelled_images(25)
    for k in range(3):
        write_shard(tmp_path, k, images[k * 10 : (k + 1) * 10])
    order = [*[*range(10, 25), *range(10)][::2], 3, 4, 5, 24]  # runs, jumps, shard changes
    packed = PackedImages(tmp_path, [shard_ref(i // 10, i % 10) for i in order])
    out = np.zeros((len(order) - 2, 4, 6, 3), np.uint8)
    packed.read_into(out, start=2)
    assert out[:, 0, 0, 0].tolist() == order[2:]
    assert np.array_equal(out, packed.batch(np.arange(2, len(order))))
    with pytest.raises(ValueError, match="C-contiguous uint8"):
        packed.read_into(np.zeros((3, 6, 4, 3), np.uint8))


def test_ref_round_trip_and_errors(tmp_path: Path) -> None:
    assert parse_ref(shard_ref(12, 345)) == (12, 345)
    with pytest.raises(DatasetError, match="not a packed image reference"):
        parse_ref("images/1.png")
    (tmp_path / "shards").mkdir()
    write_shard(tmp_path, 0, _labelled_images(2))
    with pytest.raises(DatasetError, match="manifest needs more"):
        PackedImages(tmp_path, [shard_ref(0, 5)])
    with pytest.raises(DatasetError, match="cannot open shard"):
        PackedImages(tmp_path, [shard_ref(1, 0)])
    (tmp_path / "shards" / "00002.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DatasetError, match="cannot open shard"):
        PackedImages(tmp_path, [shard_ref(2, 0)])


def test_write_shard_rejects_wrong_dtype(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint8"):
        write_shard(tmp_path, 0, np.zeros((1, 2, 2, 3), np.float32))


def test_manifest_round_trip_and_validation(tmp_path: Path) -> None:
    rows = [
        Row("images/1.png", "word", 3, "WoRd", "DejaVuSans", "wood", 8.0, "orange"),
        Row("images/2.png", "comma,word", 4, 'quo"te', "f", "kraft", 0.0, "black"),
    ]
    write_manifest(tmp_path / "m.csv", rows)
    assert read_manifest(tmp_path / "m.csv") == rows
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="not an ocrlab manifest"):
        read_manifest(tmp_path / "bad.csv")
    text = (tmp_path / "m.csv").read_text().replace(",3,", ",three,")
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(DatasetError, match="line 2: malformed row"):
        read_manifest(tmp_path / "m.csv")
    with pytest.raises(DatasetError, match="cannot read manifest"):
        read_manifest(tmp_path / "missing.csv")
