"""One preprocessing per model kind: one image gives identical tensors on every path (training's
loader from PNG files and from packed shards, a reader given a path, a str, bytes, a Pillow image
or an array, the server's decoded upload, ONNX's NumPy scaling and training's on-device scaling)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ocrlab.data.load import load
from ocrlab.runtime.preprocess import PREPROCESS, preprocess, scale
from ocrlab.serve.upload import decode_upload
from ocrlab.synth import PRESETS, generate
from ocrlab.train.batches import DeviceBatches


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pre")
    hard = dataclasses.replace(PRESETS["hard"], words=2, limit=3)
    generate(hard, root / "png")
    generate(dataclasses.replace(hard, format="packed"), root / "packed")
    return root


@pytest.mark.parametrize(("size", "mode"), [((20, 90), "L"), ((24, 168), "RGB")])
def test_every_path_gives_the_training_tensor(sets: Path, size: tuple[int, int], mode: str) -> None:
    png = sets / "png" / "images" / sorted(p.name for p in (sets / "png" / "images").iterdir())[0]
    prepare = PREPROCESS["seq"]
    trained = load(sets / "png", size, mode=mode, prepare=prepare).images[:1]  # (1, H, W, C)
    packed = load(sets / "packed", size, mode=mode, prepare=prepare).images[:1]
    data = png.read_bytes()
    with Image.open(png) as im:
        pil = im.copy()
    sources = [png, str(png), data, pil, np.asarray(pil), decode_upload(data, 10**7)]
    read = preprocess("seq", sources, size, mode)
    assert read.shape == (len(sources), *size, 1 if mode == "L" else 3)
    for batch in (packed, read):
        assert np.array_equal(np.broadcast_to(trained, batch.shape), batch)
    on_device = next(iter(DeviceBatches(trained, np.zeros(1), 1, torch.device("cpu"))))[0]
    assert torch.equal(on_device, torch.from_numpy(scale(read[:1])))  # training = torch = ONNX


def test_grey_is_taken_before_resizing() -> None:
    """Converting after resizing gives other pixels: the order is part of the preprocessing."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 100, 3), dtype=np.uint8)
    ours = PREPROCESS["seq"](rgb, (16, 40), "L")[..., 0]
    other = Image.fromarray(rgb).resize((40, 16), Image.Resampling.BILINEAR).convert("L")
    grey_first = Image.fromarray(rgb).convert("L").resize((40, 16), Image.Resampling.BILINEAR)
    assert np.array_equal(ours, np.asarray(grey_first))
    assert not np.array_equal(ours, np.asarray(other))


def test_a_line_model_sees_one_tensor_on_every_path(tmp_path: Path) -> None:
    """The general reader: a dataset folder (fine-tuning), every reader input, the server's upload
    and ONNX's scaling all give the same (1, 32, 1024) line; the zoo stream it trains on gives
    that line's first 256 columns, the rest is its padding (for a zoo line up to 256 columns wide,
    as some 97 % are; the widest are squeezed to 256 in training, docs/general.md)."""
    from ocrlab.charset import Charset, Tokenizer
    from ocrlab.models.crnn import line_input
    from ocrlab.runtime.line import HEIGHT, WIDTH, line_width
    from ocrlab.synth.fonts import default_fonts
    from ocrlab.synth.zoo import Zoo, ZooConfig
    from ocrlab.synth.zoo_set import ZooRender
    from ocrlab.train.general import ZOO_WIDTH, ZooBatches

    zoo = Zoo(ZooConfig(seed=3), default_fonts())
    x, _, _ = ZooBatches(zoo, Tokenizer(Charset(zoo.config.charset), 12), 1, 1)[0]
    image, _ = ZooRender(zoo)(0)
    png = tmp_path / "a.png"
    Image.fromarray(image).save(png)
    (tmp_path / "labels.csv").write_text(f"a.png,{zoo.sample(0).text}\n")
    data = png.read_bytes()
    with Image.open(png) as im:
        pil = im.copy()
    sources = [png, str(png), data, pil, np.asarray(pil), decode_upload(data, 10**7)]
    read = preprocess("line", sources, (HEIGHT, WIDTH), "L")
    loaded = load(tmp_path, (HEIGHT, WIDTH), mode="L", prepare=PREPROCESS["line"]).images
    assert np.array_equal(PREPROCESS["line"](png, None, "L"), read[0])  # the default canvas
    trained = x.numpy().transpose(0, 2, 3, 1)  # (1, 32, 256, 1)
    assert trained.shape[2] == ZOO_WIDTH and line_width(*image.shape[:2]) < ZOO_WIDTH
    for batch in (read, loaded):
        assert np.array_equal(np.broadcast_to(trained, (len(batch), *trained.shape[1:])),
                              batch[:, :, :ZOO_WIDTH])  # fmt: skip
        assert (batch[:, :, ZOO_WIDTH:] == trained[0, 0, -1, 0]).all()  # the line's padding
    assert torch.equal(line_input(x), torch.from_numpy(scale(read[:1, :, :ZOO_WIDTH])))
