"""`ocrlab read` on letters: every bad input is one clear line and exit 2; alpha and palette PNGs
read; --json carries per-letter top-k; --debug writes the stages."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ocrlab.runtime
from ocrlab.cli import main
from ocrlab.data.images import MAX_PIXELS, decode
from ocrlab.errors import ImageError

Draw = Callable[..., np.ndarray]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: a decompression bomb's first bytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def _bad_inputs(root: Path) -> dict[str, tuple[Path, str]]:
    def save(name: str, pixels: np.ndarray) -> Path:
        Image.fromarray(pixels).save(root / name)
        return root / name

    stripes = np.where((np.arange(100) % 25 < 12)[None, :], 0, 255).astype(np.uint8)
    (root / "notes.png").write_text("not an image at all", encoding="utf-8")
    (root / "bomb.png").write_bytes(_png_header(100_000, 100_000))
    return {
        "blank": (save("blank.png", np.full((60, 80, 3), 255, np.uint8)), "one colour"),
        "all ink": (save("black.png", np.zeros((60, 80), np.uint8)), "all ink"),
        "mostly ink": (save("stripes.png", np.repeat(stripes, 40, 0)), "ink covers 48%"),
        "tiny": (save("tiny.png", np.zeros((4, 5, 3), np.uint8)), "at least 8 pixels"),
        "huge": (root / "bomb.png", "limit"),
        "not an image": (root / "notes.png", "cannot decode"),
        "missing": (root / "nowhere.png", "not found"),
    }


def test_every_bad_input_is_one_clear_line_and_exit_1_or_2_when_strict(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, (path, message) in _bad_inputs(tmp_path).items():
        for flags, status in (([], 1), (["--strict"], 2)):
            assert main(["read", str(path), "--model", str(tiny_run), *flags]) == status, name
            out, err = capsys.readouterr()
            assert err.count("\n") == 1 and err.startswith("ocrlab: error: "), (name, err)
            assert message in err and out == "", (name, err)
            assert flags or str(path) in err, (name, err)  # keep-going lines name the image


def test_alpha_and_palette_pngs_are_read(
    tiny_run: Path, tmp_path: Path, draw: Draw, capsys: pytest.CaptureFixture[str]
) -> None:
    rgb = draw("K", (0, 0, 0), (255, 255, 255))
    rgba = np.zeros((*rgb.shape[:2], 4), np.uint8)
    rgba[..., 3] = 255 - rgb[..., 0]
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    paths = [str(tmp_path / "alpha.png"), str(tmp_path / "palette.png")]
    assert main(["read", *paths, "--model", str(tiny_run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [len(r["text"]) for r in out] == [1, 1]


def test_json_top_k_and_debug_stages(
    tiny_run: Path, tmp_path: Path, draw: Draw, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.fromarray(draw("OK")).save(tmp_path / "ok.png")
    args = ["read", str(tmp_path / "ok.png"), "--model", str(tiny_run), "--top-k", "3"]
    assert main([*args, "--json", "--debug", str(tmp_path / "dbg")]) == 0
    (reading,) = json.loads(capsys.readouterr().out)
    assert len(reading["text"]) == 2 and len(reading["chars"]) == 2
    assert [len(top) for top in reading["letters"]] == [3, 3] and len(reading["topk"]) == 3
    files = sorted(p.name for p in (tmp_path / "dbg" / "ok").iterdir())
    assert files[:5] == [
        "00-input.png", "01-working.png", "02-kmeans.png", "03-binary.png", "04-segments.png"
    ]  # fmt: skip
    assert files[-1] == "10-letter2-blur.png"
    (tmp_path / "days" / "2").mkdir(parents=True)
    for name in ("days/1.png", "days/2/1.png"):
        Image.fromarray(draw("OK")).save(tmp_path / name)
    stages = tmp_path / "stages"
    assert (
        main(["read", str(tmp_path / "days"), "--model", str(tiny_run), "--debug", str(stages)])
        == 0
    )
    assert sorted(p.name for p in stages.iterdir()) == ["1", "1-2"]  # days/1.png, days/2/1.png
    assert main(args) == 0
    assert capsys.readouterr().out.count("[") == 2  # each letter's alternatives


def test_words_is_the_shipped_sequence_model_or_a_clear_error(
    tmp_path: Path, draw: Draw, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocrlab.runtime.shipped import SHIPPED

    Image.fromarray(draw("OK")).save(tmp_path / "ok.png")
    status = main(["read", str(tmp_path / "ok.png"), "--model", "words"])
    assets = Path(ocrlab.runtime.__file__).parent / "assets" / SHIPPED["words"].folder
    if (assets / "checkpoint.json").is_file():
        assert status == 0 and capsys.readouterr().out.startswith(str(tmp_path / "ok.png"))
    else:
        assert status == 2 and "words model is not shipped" in capsys.readouterr().err


def test_an_exported_letters_model_reads_like_the_run(
    tiny_run: Path, tmp_path: Path, draw: Draw, capsys: pytest.CaptureFixture[str]
) -> None:
    Image.fromarray(draw("AX\nZ")).save(tmp_path / "ax.png")
    assert main(["export", "--model", str(tiny_run), "--onnx", str(tmp_path / "m.onnx")]) == 0
    capsys.readouterr()
    outputs = []
    for model in (str(tiny_run), str(tmp_path / "m.onnx")):
        assert main(["read", str(tmp_path / "ax.png"), "--model", model, "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out)[0])
    assert outputs[0]["text"] == outputs[1]["text"] and len(outputs[0]["text"]) == 4
    assert outputs[0]["confidence"] == pytest.approx(outputs[1]["confidence"], abs=1e-4)


def test_too_large_images_and_folders_are_refused_by_name(tmp_path: Path) -> None:
    """Over the limit the message gives the size and the limit, whichever of Pillow's own checks
    would have fired first (a warning above 89 megapixels, an error above 179)."""
    for width, height in ((10_001, 10_000), (12_000, 9_000), (20_000, 20_000)):
        path = tmp_path / f"{width}.png"
        path.write_bytes(_png_header(width, height))
        with pytest.raises(ImageError, match=f"{path}.*{MAX_PIXELS:,} pixels"):
            decode(path)
    with pytest.raises(ImageError, match=r"is a folder, not an image: ocrlab.read_many\("):
        decode(tmp_path)
