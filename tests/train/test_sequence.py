"""The sequence recogniser end to end on tiny data: train, read, export, evaluate, bad labels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ocrlab.cli import main
from ocrlab.config import replace
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.read.evaluate import evaluate_seq, text_metrics
from ocrlab.read.onnx import OnnxPredictor, export_onnx
from ocrlab.read.predictor import Predictor
from ocrlab.runtime.checkpoint import load_checkpoint
from ocrlab.train.sequence import PRESETS, SequenceJob, train_seq

TINY = {
    "channels": [8, 8, 16, 16],
    "d_model": 32,
    "heads": 4,
    "layers": 1,
    "ff": 64,
    "input_height": 16,
    "input_width": 64,
    "train.epochs": 2,
    "train.batch_size": 8,
    "train.device": "cpu",
    "split": "random",
    "test_fraction": 0.25,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A labelled folder like captcha_images_v2: the file name is the label."""
    root = tmp_path_factory.mktemp("captchas")
    rng = np.random.default_rng(0)
    for i in range(16):
        label = "".join(rng.choice(list("abc12"), size=int(rng.integers(2, 5))))
        Image.fromarray(rng.integers(0, 255, (20, 80, 3), dtype=np.uint8)).save(
            root / f"{label}{'x' * (i % 2)}.png"
        )
    return root


@pytest.fixture(scope="module")
def run(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "seq"
    train_seq([folder], out, replace(PRESETS["quick"], TINY))
    return out


def test_run_records_charset_and_split(run: Path, folder: Path) -> None:
    ckpt = load_checkpoint(run)
    assert ckpt.kind == "seq" and ckpt.charset == "12abcx"
    assert ckpt.split["train"] + ckpt.split["test"] == 16
    assert ckpt.input_size == (16, 64)


def test_predictor_reading_has_probabilities(run: Path, folder: Path) -> None:
    image = next(folder.iterdir())
    (one,) = Predictor.load(run, "cpu").read([image], top_k=1)
    (three,) = Predictor.load(run, "cpu").read([image.read_bytes()], top_k=3)
    assert 0.0 <= one.confidence <= 1.0 and len(one.chars) == len(one.text)
    assert three.topk[0][0] == three.text and len(three.topk) <= 3
    scores = [p for _, p in three.topk]
    assert scores == sorted(scores, reverse=True)


def test_onnx_matches_torch(run: Path, folder: Path, tmp_path: Path) -> None:
    path = export_onnx(run, tmp_path / "m.onnx")
    exported = evaluate_seq(path, [folder], "cpu", held_out=True)
    torch_run = evaluate_seq(run, [folder], "cpu", held_out=True)
    assert {**exported, "model": ""} == {**torch_run, "model": ""}
    images = sorted(folder.iterdir())[:6]
    torch_readings = Predictor.load(run, "cpu").read(images, top_k=1)
    onnx_readings = OnnxPredictor(path).read(images, top_k=1)
    for a, b in zip(torch_readings, onnx_readings, strict=True):
        assert a.text == b.text
        assert a.confidence == pytest.approx(b.confidence, rel=1e-4, abs=1e-6)


def test_evaluate_held_out_split(run: Path, folder: Path, tmp_path: Path) -> None:
    metrics = evaluate_seq(run, [folder], "cpu", held_out=True)
    assert metrics["images"] == 4 and metrics["cer"] >= 0.0
    part = tmp_path / "part"  # some of the images it trained on: no split of its own
    part.mkdir()
    for image in sorted(folder.iterdir())[:8]:
        (part / image.name).write_bytes(image.read_bytes())
    with pytest.raises(DatasetError, match="trained on 12 images and tested on 4"):
        evaluate_seq(run, [part], "cpu", held_out=True)


def test_text_metrics() -> None:
    m = text_metrics(["Ab", "cd", "efg"], ["ab", "cd", "efx"])
    assert m["exact"] == pytest.approx(1 / 3) and m["exact_case_insensitive"] == pytest.approx(
        2 / 3
    )
    assert m["cer"] == pytest.approx(2 / 7) and m["exact_by_length"] == {"2": 0.5, "3": 0.0}


def test_fine_tuning_extends_the_charset_and_keeps_known_logits(run: Path, tmp_path: Path) -> None:
    """Labels with characters the start never spelt ('9', 'z'): fresh rows for them in the
    embedding, the output layer and the CTC head; every known character keeps its rows, so before
    training the known characters' logits are the start's, bit for bit."""
    other = tmp_path / "other"
    other.mkdir()
    for name in ("zz9", "ab", "c1"):
        Image.new("RGB", (80, 20)).save(other / f"{name}.png")
    cfg = dataclasses.replace(replace(PRESETS["quick"], TINY), init=str(run))
    job = SequenceJob([other], cfg)
    loaded = job.load()
    model, ckpt = job.build(loaded, job.split(loaded))
    assert ckpt.charset == "12abcx9z"  # the start's, then the labels' new characters
    start = Predictor.load(run, "cpu").model.eval()
    x = torch.rand(2, 3, 16, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    tokens = torch.tensor([[1, 4, 5, 6], [1, 9, 8, 7]])  # <bos> then known characters only
    known = 4 + len("12abcx")
    with torch.no_grad():
        before, after = start(x, tokens), model.eval()(x, tokens)
        memory = model.encoder(x)
        ctc_before, ctc_after = start.ctc_logits(start.encoder(x)), model.ctc_logits(memory)
    torch.testing.assert_close(after[..., :known], before, rtol=0, atol=1e-6)
    torch.testing.assert_close(ctc_after[..., :known], ctc_before, rtol=0, atol=1e-6)
    assert after.shape[-1] == known + 2
    narrow = dataclasses.replace(cfg, charset="cab")  # a narrower charset drops the other rows
    with pytest.raises(DatasetError, match="outside the charset"):
        SequenceJob([other], narrow).load()
    for name in ("zz9", "c1"):
        (other / f"{name}.png").unlink()
    Image.new("RGB", (80, 20)).save(other / "cab.png")
    job = SequenceJob([other], narrow)
    loaded = job.load()
    small, ckpt = job.build(loaded, job.split(loaded))
    assert ckpt.charset == "cab"
    with torch.no_grad():
        kept = small.eval()(x, torch.tensor([[1, 4, 5], [1, 6, 4]]))  # <bos> c a / <bos> b c
        full = start(x, torch.tensor([[1, 8, 6], [1, 7, 8]]))  # the same texts, old ids
    rows = [0, 1, 2, 3, 4 + "12abcx".index("c"), 4 + "12abcx".index("a"), 4 + "12abcx".index("b")]
    torch.testing.assert_close(kept, full[..., rows], rtol=0, atol=1e-6)
    with pytest.raises(ConfigError, match="unrolls its decoder"):
        dataclasses.replace(cfg, init=str(tmp_path / "r.onnx"))


def test_cli_train_read_export(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = [x for k, v in TINY.items() for x in ("--set", f"{k}={_toml(v)}")]
    assert (
        main(
            [
                "train",
                "seq",
                "--data",
                str(folder),
                "--out",
                str(tmp_path / "r"),
                "--workers",
                "1",
                *sets,
            ]
        )
        == 0
    )
    assert main(["export", "--model", str(tmp_path / "r"), "--onnx", str(tmp_path / "r.onnx")]) == 0
    image = str(next(folder.iterdir()))
    capsys.readouterr()
    assert main(["read", "--model", str(tmp_path / "r.onnx"), image]) == 0
    assert image in capsys.readouterr().out
    assert main(["read", "--model", str(tmp_path / "nowhere"), image]) == 2
    assert "model not found" in capsys.readouterr().err


def test_too_long_labels_are_refused(tmp_path: Path) -> None:
    Image.new("RGB", (80, 20)).save(tmp_path / "abcdefgh.png")
    Image.new("RGB", (80, 20)).save(tmp_path / "ab.png")
    cfg = replace(PRESETS["quick"], {**TINY, "max_len": 4})
    with pytest.raises(DatasetError, match="at most 4"):
        train_seq([tmp_path], tmp_path / "out", cfg)


def _toml(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value).replace("'", '"').lower() if isinstance(value, bool) else str(value)


def test_ctc_loss_is_small_on_the_right_path_and_ignores_eos_and_pad() -> None:
    import torch

    from ocrlab.charset import EOS, PAD
    from ocrlab.train.sequence import ctc_loss

    a, b = 4, 5
    path = [a, PAD, b, PAD]  # columns: a, blank, b, blank
    logits = torch.full((1, 4, 6), -20.0)
    logits[0, torch.arange(4), torch.tensor(path)] = 20.0
    right = torch.tensor([[a, b, EOS, PAD, PAD]])
    wrong = torch.tensor([[b, a, EOS, PAD, PAD]])
    assert float(ctc_loss(logits, right)) < 1e-3
    assert float(ctc_loss(logits, wrong)) > 10.0
