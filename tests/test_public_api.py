"""The public API: `ocrlab.read`, `read_many`, `load`, `models`, `render` and `generate`."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ocrlab
from ocrlab.errors import ConfigError, DatasetError


@pytest.fixture(scope="module")
def word() -> Image.Image:
    return ocrlab.render("Hello", style="easy", seed=1)


def test_render_is_seeded_and_styles_are_named() -> None:
    a, b = ocrlab.render("Xy3", style="hard", seed=5), ocrlab.render("Xy3", style="hard", seed=5)
    assert a.mode == "RGB" and np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(ocrlab.render("Xy3", "hard", seed=6)))
    with pytest.raises(ConfigError, match="unknown style"):
        ocrlab.render("Xy3", style="rainbow")
    with pytest.raises(ConfigError, match="one line"):
        ocrlab.render("")


def test_read_takes_every_kind_of_image_alike(word: Image.Image, tmp_path: Path) -> None:
    path = tmp_path / "w.png"
    word.save(path)
    buf = io.BytesIO()
    word.save(buf, "PNG")
    readings = [
        ocrlab.read(x, model="captcha", device="cpu")
        for x in (path, str(path), buf.getvalue(), word, np.asarray(word))
    ]
    assert len({(r.text, round(r.confidence, 5)) for r in readings}) == 1
    assert len(readings[0].topk) == 1  # greedy by default
    assert len(ocrlab.read(word, "captcha", top_k=3, device="cpu").topk) > 1  # beam search


def test_read_many_batches_and_keeps_order(word: Image.Image) -> None:
    other = ocrlab.render("World", style="easy", seed=2)
    images = [word, other, word]
    many = ocrlab.read_many(images, model="captcha", batch_size=2, device="cpu")
    one_by_one = [ocrlab.read(im, model="captcha", device="cpu").text for im in images]
    assert [r.text for r in many] == one_by_one


def test_read_many_keeps_going_past_a_bad_image_when_asked(word: Image.Image) -> None:
    other = ocrlab.render("World", style="easy", seed=2)
    images = [word, b"not an image", other, np.zeros((0, 5), np.uint8), word]
    with pytest.raises(ocrlab.UserError, match="cannot decode"):
        ocrlab.read_many(images, model="captcha", batch_size=4, device="cpu")
    got = ocrlab.read_many(images, model="captcha", batch_size=4, device="cpu", return_errors=True)
    assert [type(r).__name__ for r in got] == ["Reading", "ImageError", "Reading", "ImageError",
                                              "Reading"]  # fmt: skip
    alone = [ocrlab.read(im, model="captcha", device="cpu").text for im in (word, other)]
    assert [got[0].text, got[2].text, got[4].text] == [alone[0], alone[1], alone[0]]


def test_read_many_takes_a_folder_or_one_path_not_its_characters(
    word: Image.Image, tmp_path: Path
) -> None:
    from ocrlab.data.sources import list_images

    other = ocrlab.render("World", style="easy", seed=2)
    (tmp_path / "sub").mkdir()
    word.save(tmp_path / "b.png")
    other.save(tmp_path / "sub" / "a.png")
    (tmp_path / "notes.txt").write_text("not an image")
    paths = list_images(tmp_path)
    assert [Path(p).name for p in paths] == ["b.png", "a.png"]  # sorted: b.png before sub/
    expected = [r.text for r in ocrlab.read_many(paths, model="captcha", device="cpu")]
    for source in (tmp_path, str(tmp_path)):
        got = ocrlab.read_many(source, model="captcha", device="cpu")
        assert [r.text for r in got] == expected
    one = ocrlab.read_many(str(tmp_path / "b.png"), model="captcha", device="cpu")
    assert [r.text for r in one] == expected[:1]
    buf = io.BytesIO()
    word.save(buf, "PNG")
    assert [r.text for r in ocrlab.read_many(buf.getvalue(), "captcha", device="cpu")] == [
        expected[0]
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no images"):
        ocrlab.read_many(tmp_path / "empty", model="captcha", device="cpu")


def test_load_and_models_name_the_same_readers() -> None:
    names = ocrlab.models()
    assert {"default", "words", "captcha", "letters", "auto"} <= names.keys()
    assert all(isinstance(line, str) and line for line in names.values())
    assert hasattr(ocrlab.load("letters", "cpu"), "read")
    with pytest.raises(DatasetError, match="no path and no shipped model"):
        ocrlab.load("no-such-model")


def test_generate_writes_a_preset_with_overrides(tmp_path: Path) -> None:
    out = ocrlab.generate(tmp_path / "set", "easy", words=2, limit=4)
    assert len(list((out / "images").iterdir())) == 4
    with pytest.raises(ConfigError):
        ocrlab.generate(tmp_path / "bad", "easy", no_such_field=1)


def test_read_and_models_stay_functions_after_their_subpackages_load() -> None:
    code = (
        "import ocrlab, ocrlab.read.resolve, ocrlab.models.resnet; "
        "from ocrlab.read.predictor import Predictor; "
        "import sys; print(callable(ocrlab.read), callable(ocrlab.models), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "True", "True"]
