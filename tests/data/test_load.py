from __future__ import annotations

import dataclasses
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocrlab.data.images import decode, decode_all, open_image
from ocrlab.data.load import folder_labels, load, load_many
from ocrlab.errors import DatasetError, ImageError
from ocrlab.synth import PRESETS, generate


def _self_labelled_folder(root: Path, n: int, size: tuple[int, int] = (6, 10)) -> None:
    """PNGs whose every pixel is their own label number: misalignment cannot hide."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((*size, 3), i, np.uint8)).save(root / f"{i:03d}.png")


@pytest.mark.parametrize("workers", [1, 2])
def test_images_never_detach_from_labels(tmp_path: Path, workers: int) -> None:
    _self_labelled_folder(tmp_path, 150)
    data = load(tmp_path, workers=workers)
    assert [int(im[0, 0, 0]) for im in data.images] == [int(t) for t in data.texts]
    sub = data.subset(np.array([149, 3, 77]))
    assert [int(im[0, 0, 0]) for im in sub.images] == [int(t) for t in sub.texts] == [149, 3, 77]


def test_ocrlab_datasets_load_with_manifest_labels(tmp_path: Path) -> None:
    cfg = dataclasses.replace(PRESETS["hard"], words=4, limit=30, shard_size=8)
    png = load(generate(cfg, tmp_path / "png"))
    packed = load(generate(dataclasses.replace(cfg, format="packed"), tmp_path / "packed"))
    assert np.array_equal(png.images, packed.images) and png.texts == packed.texts
    assert all(t.lower() == w for t, w in zip(png.texts, png.words, strict=True))
    assert png.vocab == packed.vocab and len(png.vocab) == 4
    both = load_many([tmp_path / "png", tmp_path / "packed"])
    assert len(both) == 60 and both.images.shape[1:] == png.images.shape[1:]


@pytest.mark.parametrize("limit", [0, 12, 30, 41, 1000])
def test_a_limit_loads_the_first_images_of_the_sets_in_order(tmp_path: Path, limit: int) -> None:
    cfg = dataclasses.replace(PRESETS["hard"], words=4, limit=30, shard_size=8)
    png = generate(cfg, tmp_path / "png")
    packed = generate(dataclasses.replace(cfg, format="packed", seed=2), tmp_path / "packed")
    height, width = load(png).images.shape[1:3]
    _self_labelled_folder(tmp_path / "folder", 20, size=(height, width))
    roots = [png, packed, tmp_path / "folder"]
    full = load_many(roots)
    decoded: list[object] = []

    def counted(image: object, size: object, mode: str) -> np.ndarray:
        decoded.append(image)
        return decode(image, size, mode)  # type: ignore[arg-type]

    part = load_many(roots, limit=limit, prepare=counted)
    n = min(limit, len(full))
    assert np.array_equal(part.images, full.images[:n]) and part.images.shape[1:] == (
        height,
        width,
        3,
    )
    assert (part.texts, part.words, part.sources) == (
        full.texts[:n],
        full.words[:n],
        full.sources[:n],
    )
    assert len(decoded) <= n + 2 * len(roots)  # and a set's first image again, for its shape


def test_loading_several_sets_never_copies_them(tmp_path: Path) -> None:
    """The loader of "Breaking CAPTCHA" crashed past 60,000 images: here the peak is the final
    array, not twice it."""
    cfg = dataclasses.replace(PRESETS["hard"], words=4, limit=200, format="packed")
    roots = [generate(dataclasses.replace(cfg, seed=s), tmp_path / str(s)) for s in range(3)]
    height, width = load(roots[0]).images.shape[1:3]
    _self_labelled_folder(tmp_path / "folder", 50, size=(height, width))
    tracemalloc.start()
    try:
        data = load_many([*roots, tmp_path / "folder"], workers=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) == 650
    assert peak < data.images.nbytes * 1.1 + 4_000_000, (peak, data.images.nbytes)


def test_label_files(tmp_path: Path) -> None:
    _self_labelled_folder(tmp_path, 3)
    (tmp_path / "labels.csv").write_text("file,label\n000.png,zero\n002.png,two\n")
    assert [(p.name, t) for p, t in folder_labels(tmp_path)] == [
        ("000.png", "zero"),
        ("002.png", "two"),
    ]
    (tmp_path / "labels.csv").unlink()
    (tmp_path / "labels.txt").write_text("001.png\tone word\n000.png zero\n")
    assert [t for _, t in folder_labels(tmp_path)] == ["one word", "zero"]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("file,label\nnope.png,x\n", "missing file"),
        ("file,label\n000.png,\n", "empty label"),
        ("file,label\n000.png\n", "expected 'file,label'"),
    ],
)
def test_bad_label_files(tmp_path: Path, labels: str, message: str) -> None:
    _self_labelled_folder(tmp_path, 1)
    (tmp_path / "labels.csv").write_text(labels)
    with pytest.raises(DatasetError, match=message):
        load(tmp_path)


def test_manifest_naming_missing_files(tmp_path: Path) -> None:
    out = generate(dataclasses.replace(PRESETS["easy"], words=2), tmp_path / "d")
    next((out / "images").iterdir()).unlink()
    with pytest.raises(DatasetError, match="names 1 missing file"):
        load(out)


def test_unreadable_images_fail_or_are_skipped_and_counted(tmp_path: Path) -> None:
    _self_labelled_folder(tmp_path, 3)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ImageError, match=r"bad\.png"):
        load(tmp_path)
    data = load(tmp_path, skip_bad=True)
    bad = str(tmp_path / "bad.png")
    assert len(data) == 3 and list(data.skipped) == [bad]
    assert data.skipped[bad].startswith(f"cannot decode {bad}: ")


def test_mixed_sizes_are_an_error_unless_resized(tmp_path: Path) -> None:
    _self_labelled_folder(tmp_path, 2)
    Image.new("RGB", (30, 9)).save(tmp_path / "wide.png")
    with pytest.raises(ImageError, match=r"wide\.png is 30x9"):
        load(tmp_path)
    assert load(tmp_path, size=(8, 16)).images.shape == (3, 8, 16, 3)


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load(tmp_path / "none")
    with pytest.raises(DatasetError, match="has no images"):
        load(tmp_path)


def test_decoding_guards(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="cannot decode"):
        open_image(b"not an image")
    big = tmp_path / "big.png"
    Image.new("L", (5000, 5000)).save(big)
    with pytest.raises(ImageError, match="limit"):
        open_image(big, max_pixels=1_000_000)
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert open_image(_png_bytes(rgba)).getpixel((0, 0)) == (255, 255, 255)
    palette = Image.new("P", (4, 4), 0)
    assert open_image(_png_bytes(palette), "L").mode == "L"
    with pytest.raises(ImageError, match="no images"):
        decode_all([])


def _png_bytes(im: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_a_labels_file_in_the_current_folder_names_files_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "labels.csv").write_text("file,label\n0.png,ab\nsub/1.png,cd\n")
    monkeypatch.chdir(tmp_path)
    assert [(str(p), t) for p, t in folder_labels(Path("."), check_files=False)] == [
        ("0.png", "ab"), ("sub/1.png", "cd")
    ]  # fmt: skip


@pytest.mark.parametrize("workers", [1, 2])
def test_decode_readable_keeps_order_and_names_the_images_that_do_not_decode(
    tmp_path: Path, workers: int
) -> None:
    from ocrlab.data.images import decode_readable

    _self_labelled_folder(tmp_path, 6)
    (tmp_path / "002.png").write_bytes(b"not a png")
    (tmp_path / "005.png").write_bytes(b"")
    paths = sorted(tmp_path.glob("*.png"))
    images, bad = decode_readable(paths, workers=workers)
    assert list(bad) == [2, 5] and [int(im[0, 0, 0]) for im in images] == [0, 1, 3, 4]
    assert all(why.startswith(f"cannot decode {paths[i]}") for i, why in bad.items())
    assert decode_readable(paths[2:3])[0].shape[0] == 0  # none decodes: an empty set, no error
