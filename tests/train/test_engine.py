from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ocrlab.errors import ConfigError, DatasetError
from ocrlab.models import build
from ocrlab.runtime import checkpoint
from ocrlab.synth import PRESETS, generate
from ocrlab.train.batches import DeviceBatches, make_loader, to_input, train_test_batches
from ocrlab.train.classifier import ClassifierConfig, train_classifier
from ocrlab.train.loop import TrainConfig, native_cpu_bf16

TINY = ClassifierConfig(
    width=8,
    input_height=16,
    input_width=64,
    train=TrainConfig(epochs=3, batch_size=16, lr=3e-3, device="cpu"),
)


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    return generate(dataclasses.replace(PRESETS["easy"], words=4), root / "easy")


def test_to_input_scales_and_resizes() -> None:
    batch = torch.full((2, 8, 12, 3), 255, dtype=torch.uint8)
    x = to_input(batch, (4, 6))
    assert x.shape == (2, 3, 4, 6) and torch.allclose(x, torch.ones_like(x))


def test_batches_are_seeded_and_cover_everything() -> None:
    images = np.arange(10, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2)
    labels = np.arange(10)
    make = lambda: DeviceBatches(images, labels, 4, torch.device("cpu"), shuffle=True, seed=1)  # noqa: E731
    first = [y.tolist() for _, y in make()]
    assert first == [y.tolist() for _, y in make()]
    assert sorted(v for ys in first for v in ys) == list(range(10))
    for x, y in make():  # each image still carries its own label
        assert torch.equal(((x[:, 0, 0, 0] + 1) * 127.5).round().long(), y)
    loader = make_loader(images, labels, 4, shuffle=True, seed=3)
    assert sorted(int(v) for _, ys in loader for v in ys) == list(range(10))


def test_train_and_test_sides_share_one_array_and_keep_their_labels() -> None:
    images = np.arange(10, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2)
    split = (np.array([0, 2, 3, 5, 6, 8, 9]), np.array([1, 4, 7]))
    cpu = torch.device("cpu")
    train, test = train_test_batches(images, np.arange(10), split, cpu, 3, 0, False)
    assert train.images is images and test.images is images  # no copy of either part
    assert (len(train), len(test)) == (3, 1)
    seen = {}
    for side, batches in (("train", train), ("test", test)):
        for x, y in batches:
            assert torch.equal(((x[:, 0, 0, 0] + 1) * 127.5).round().long(), y)
            seen[side] = seen.get(side, []) + y.tolist()
    assert sorted(seen["train"]) == split[0].tolist() and seen["test"] == split[1].tolist()


def test_train_writes_a_complete_run(tmp_path: Path, words: Path) -> None:
    metrics = train_classifier([words], tmp_path / "a", TINY)
    for name in (
        "model.safetensors",
        "checkpoint.json",
        "history.csv",
        "curves.png",
        "metrics.json",
        "config.json",
    ):
        assert (tmp_path / "a" / name).is_file(), name
    ckpt = checkpoint.load_checkpoint(tmp_path / "a")
    assert ckpt.kind == "classifier" and len(ckpt.classes) == 4
    assert ckpt.input_size == (16, 64) and metrics["epochs"] == 3


def _interrupt_after_first_epoch(event: dict[str, object]) -> None:
    if event["event"] == "epoch" and event["epoch"] == 1:
        raise KeyboardInterrupt


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path: Path, words: Path) -> None:
    train_classifier([words], tmp_path / "a", TINY)
    with pytest.raises(KeyboardInterrupt):
        train_classifier([words], tmp_path / "b", TINY, callback=_interrupt_after_first_epoch)
    assert len(checkpoint.load_state(tmp_path / "b")["history"]) == 1
    train_classifier([words], tmp_path / "b", TINY, resume=True)
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert a["epochs"] == b["epochs"] == 3
    assert a["test_loss"] == pytest.approx(b["test_loss"], rel=1e-4)
    assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
    with pytest.raises(DatasetError, match="another configuration"):
        train_classifier([words], tmp_path / "b", dataclasses.replace(TINY, width=16), resume=True)


def test_run_folder_guards(tmp_path: Path, words: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "mine.txt").write_text("keep")
    with pytest.raises(DatasetError, match="not empty"):
        train_classifier([words], tmp_path / "x", TINY)
    with pytest.raises(DatasetError, match="not an ocrlab run"):
        train_classifier([words], tmp_path / "x", TINY, overwrite=True)
    with pytest.raises(DatasetError, match="does not exist"):
        train_classifier([words], tmp_path / "y", TINY, resume=True)
    assert (tmp_path / "x" / "mine.txt").read_text() == "keep"


def test_checkpoints_refuse_foreign_files(tmp_path: Path) -> None:
    model = build("resnet18", num_classes=3, width=8)
    checkpoint.save_weights(tmp_path / "w.safetensors", model)
    with pytest.raises(DatasetError, match="does not fit this model"):
        checkpoint.load_weights(
            tmp_path / "w.safetensors", build("resnet18", num_classes=5, width=8)
        )
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="cannot read weights"):
        checkpoint.load_weights(tmp_path / "bad.safetensors", model)
    with pytest.raises(DatasetError, match="not a trained model"):
        checkpoint.load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text('{"hello": 1}')
    with pytest.raises(DatasetError, match="not an ocrlab checkpoint"):
        checkpoint.load_checkpoint(tmp_path)
    line = {"kind": "line", "model": "crnn", "model_config": {}, "input_size": [32, 1024],
            "channels": 1}  # fmt: skip
    assert checkpoint.Checkpoint.from_dict(line).frame is True  # older files: the general's way
    with pytest.raises(DatasetError, match="frame must be true or false, got 'false'"):
        checkpoint.Checkpoint.from_dict({**line, "frame": "false"})  # a string is not a no
    assert checkpoint.Checkpoint.from_dict(line).fill == 0  # older files: not closed
    assert checkpoint.Checkpoint.from_dict(line).median == 0  # nor smoothed
    assert checkpoint.Checkpoint.from_dict({**line, "median": 5}).steps.median == 5
    for side in ("fill", "median"):
        for bad in (2, -3, 1, 3.0, True, "3"):
            with pytest.raises(DatasetError, match=f"{side} must be 0 or an odd number"):
                checkpoint.Checkpoint.from_dict({**line, side: bad})
    assert checkpoint.Checkpoint.from_dict(line).crop is False  # older files: not cut
    with pytest.raises(DatasetError, match="crop must be true or false, got 'yes'"):
        checkpoint.Checkpoint.from_dict({**line, "crop": "yes"})
    assert checkpoint.Checkpoint.from_dict({**line, "crop": True}).steps.crop is True
    assert checkpoint.Checkpoint.from_dict(line).colour is False  # older files: no second look
    with pytest.raises(DatasetError, match="colour must be true or false, got 1"):
        checkpoint.Checkpoint.from_dict({**line, "colour": 1})


def test_state_refuses_pickled_objects(tmp_path: Path) -> None:
    torch.save({"x": object()}, tmp_path / "state.pt")
    with pytest.raises(DatasetError, match="cannot resume"):
        checkpoint.load_state(tmp_path)


def test_bf16_autocast_is_chosen_per_device_and_trains_on_the_cpu(
    tmp_path: Path, words: Path
) -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert TrainConfig().autocast(cuda) and not TrainConfig().autocast(cpu)
    assert TrainConfig(cpu_amp="on").autocast(cpu) and not TrainConfig(amp=False).autocast(cuda)
    assert TrainConfig(cpu_amp="auto").autocast(cpu) == native_cpu_bf16()
    with pytest.raises(ConfigError, match="cpu_amp must be off, on or auto"):
        TrainConfig(cpu_amp=True)  # type: ignore[arg-type]
    cfg = dataclasses.replace(TINY, train=dataclasses.replace(TINY.train, cpu_amp="on"))
    metrics = train_classifier([words], tmp_path / "bf16", cfg)
    assert math.isfinite(metrics["train_loss"]) and math.isfinite(metrics["test_loss"])
    weights = load_file(tmp_path / "bf16" / "model.safetensors")
    assert {t.dtype for t in weights.values()} <= {
        torch.float32,
        torch.int64,
    }  # fp32 master weights
