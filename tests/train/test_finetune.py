"""Fine-tuning a line reader: charset extension keeps what the start knew; a tiny run end to end."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from ocrlab import load
from ocrlab.charset import SPECIALS
from ocrlab.cli import main
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.models import build
from ocrlab.models.crnn import CRNN, line_input
from ocrlab.runtime.line import LineSteps
from ocrlab.train.finetune import (
    FinetuneConfig,
    choose_steps,
    extend_head,
    fit,
    split,
    start_model,
)

TINY = {"channels": [4, 8, 8, 8], "hidden": 8}
MakeRun = Callable[[Path, str], Path]


def labelled_folder(folder: Path, texts: list[str]) -> Path:
    """Real rendered images of `texts` with a labels.csv."""
    folder.mkdir(parents=True)
    rows = []
    for i, text in enumerate(texts):
        img = Image.new("L", (24 * len(text) + 16, 40), 230)
        ImageDraw.Draw(img).text((8, 8), text, fill=20, font_size=24)
        img.save(folder / f"{i}.png")
        rows.append([f"{i}.png", text])
    with (folder / "labels.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([["file", "label"], *rows])
    return folder


def test_extension_keeps_known_logits_bit_identical(tmp_path: Path, tiny_line_run: MakeRun) -> None:
    run = tiny_line_run(tmp_path / "start", "abc")
    cfg = FinetuneConfig(init=str(run), device="cpu")
    model, chars, _ = start_model(cfg, ["ab#", "c@"])
    assert chars == "abc#@"
    original = load(run)
    start = original.model  # type: ignore[attr-defined]
    x = line_input(
        torch.randint(0, 256, (2, 1, 32, 256), generator=torch.Generator().manual_seed(1))
    )
    known = len(SPECIALS) + 3
    with torch.no_grad():
        before, after = start(x), model.eval()(x)
        columns, _ = model.rnn(model.cnn(x).squeeze(2).transpose(1, 2))
        alone = F.linear(columns, model.head.weight[:known], model.head.bias[:known])
    assert after.shape[-1] == known + 2
    # The known rows through the very product the start ran: bit for bit its logits.
    assert torch.equal(alone, before)
    # The whole head at its new width: BLAS may block a wider product differently, so the
    # last bit may move, nothing more.
    torch.testing.assert_close(after[..., :known], before, rtol=0, atol=1e-6)


def test_a_narrower_charset_masks_the_rest(tmp_path: Path, tiny_line_run: MakeRun) -> None:
    run = tiny_line_run(tmp_path / "start", "abc")
    model, chars, _ = start_model(FinetuneConfig(init=str(run), charset="ca", device="cpu"), ["ac"])
    assert chars == "ca" and model.head.out_features == len(SPECIALS) + 2
    x = line_input(
        torch.randint(0, 256, (2, 1, 32, 256), generator=torch.Generator().manual_seed(2))
    )
    with torch.no_grad():
        before, after = load(run).model(x), model.eval()(x)  # type: ignore[attr-defined]
    kept = [*range(len(SPECIALS)), len(SPECIALS) + 2, len(SPECIALS)]  # specials, c, a
    torch.testing.assert_close(after, before[..., kept], rtol=0, atol=1e-6)
    with pytest.raises(DatasetError, match="outside the charset 'ca': 'b'"):
        start_model(FinetuneConfig(init=str(run), charset="ca", device="cpu"), ["ab"])
    _, scratch, _ = start_model(FinetuneConfig(init="none", charset="0123456789"), ["42"])
    assert scratch == "0123456789"


def test_extension_maps_rows_by_character() -> None:
    torch.manual_seed(0)
    model = build("crnn", vocab_size=len(SPECIALS) + 3, **TINY)
    assert isinstance(model, CRNN)
    grown = extend_head(model, "abc", "cxa")  # c and a move, b is dropped, x is new
    old, new = model.head.weight, grown.head.weight
    assert torch.equal(new[len(SPECIALS) + 0], old[len(SPECIALS) + 2])
    assert torch.equal(new[len(SPECIALS) + 2], old[len(SPECIALS) + 0])
    assert torch.equal(new[: len(SPECIALS)], old[: len(SPECIALS)])
    assert not torch.equal(new[len(SPECIALS) + 1], old[len(SPECIALS) + 1])


def test_finetune_cli_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_line_run: MakeRun
) -> None:
    run = tiny_line_run(tmp_path / "start", "ab")
    texts = ["ab", "ba", "abc", "cab", "bca", "ac", "ca", "cc"]
    data = labelled_folder(tmp_path / "data", texts)
    out = tmp_path / "tuned"
    args = [
        "train",
        "finetune",
        "--data",
        str(data),
        "--out",
        str(out),
        "--init",
        str(run),
        "--time-budget",
        "0.2",
        "--workers",
        "1",
        "--set",
        "epochs=2",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    assert "held-out exact match" in capsys.readouterr().out
    reader = load(out)
    assert reader.checkpoint.charset == "abc"  # type: ignore[attr-defined]
    assert isinstance(reader.read([np.full((40, 80), 200, np.uint8)])[0].text, str)
    assert main(args) == 2  # the run folder is not empty now
    assert "not empty" in capsys.readouterr().err
    held = ["eval", "--model", str(out), "--data", str(data), "--held-out", "--device", "cpu"]
    assert main(held) == 0  # only the images the run held out of its training
    measured = json.loads(capsys.readouterr().out)
    _, va = split(len(texts), FinetuneConfig().held_out, FinetuneConfig().seed)
    assert measured["images"] == len(va) == 1 and measured["held_out"]
    assert set(measured["exact_by_length"]) == {str(len(texts[va[0]]))}  # that image, 'cab'
    saved = json.loads((out / "checkpoint.json").read_text())["metrics"]["held_out_exact"]
    assert measured["exact"] == saved  # the same image the run judged itself on
    for others in (["ab", "ba"], [*texts[1:], texts[0]]):  # fewer labels; the same, reordered
        other = labelled_folder(tmp_path / "other" / str(len(others)) / others[0], others)
        assert main([*held[:4], str(other), *held[5:]]) == 2
        assert "fine-tuned on 8 labelled images" in capsys.readouterr().err
    assert main(["eval", "--model", "general", *held[3:]]) == 2
    assert "records no held-out split" in capsys.readouterr().err


def trained_looking(run: Path) -> Path:
    """Give the tiny run's BatchNorms statistics and affine parameters far from their defaults, as
    a trained model has, so that folding them into the convolutions matters."""
    from ocrlab.runtime import checkpoint

    model = load(run).model  # type: ignore[attr-defined]
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for norm in (m for m in model.cnn if isinstance(m, torch.nn.BatchNorm2d)):
            for t, low, high in ((norm.running_mean, -1, 1), (norm.running_var, 0.2, 3),
                                 (norm.weight, 0.3, 2), (norm.bias, -1, 1)):  # fmt: skip
                t.copy_(low + (high - low) * torch.rand(t.shape, generator=gen))
    checkpoint.save_weights(run / checkpoint.WEIGHTS, model)
    return run


def test_an_exported_file_starts_a_fine_tune_as_its_run_folder_would(
    tmp_path: Path, tiny_line_run: MakeRun
) -> None:
    """The ONNX file holds folded BatchNorms and ONNX-ordered LSTM gates; read back, the model
    reads as the run folder's does, and charset extension works on it as on a folder."""
    from ocrlab.read.onnx import export_onnx

    run = trained_looking(tiny_line_run(tmp_path / "start", "abc"))
    onnx_file = export_onnx(run, tmp_path / "start.onnx")
    lines = np.random.default_rng(0).integers(0, 256, (20, 32, 256, 1), dtype=np.uint8)
    folder, _, _ = start_model(FinetuneConfig(init=str(run), device="cpu"), ["ab#"])
    exported, chars, _ = start_model(
        FinetuneConfig(init=str(onnx_file), device="cpu"), ["ab#"], lines
    )
    assert chars == "abc#"
    x = line_input(torch.from_numpy(lines[:4]).permute(0, 3, 1, 2))
    with torch.no_grad():
        before, after = folder.eval()(x), exported.eval()(x)
    known = len(SPECIALS) + 3
    torch.testing.assert_close(after[..., :known], before[..., :known], rtol=0, atol=1e-4)
    assert not torch.equal(folder.cnn[1].running_var, exported.cnn[1].running_var)  # measured
    texts = ["ab", "c#", "ba", "cab", "a", "bc", "ca", "b"] * 2 + ["abc", "cc", "ab", "ba"]
    cfg = FinetuneConfig(init=str(onnx_file), device="cpu", epochs=1, epoch_images=8,
                         batch_size=4, minutes=0)  # fmt: skip
    assert fit(cfg, (lines[:16], texts[:16]), (lines[16:], texts[16:])).charset == "abc#"
    with pytest.raises(DatasetError, match="needs some lines"):
        start_model(FinetuneConfig(init=str(onnx_file), device="cpu"), ["ab"])
    int8 = export_onnx(run, tmp_path / "int8.onnx", int8=True, calibration=list(lines[..., 0]))
    with pytest.raises(DatasetError, match="int8 export"):
        start_model(FinetuneConfig(init=str(int8), device="cpu"), ["ab"], lines)
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(onnx_file.read_bytes()[:300])
    with pytest.raises(DatasetError, match="cannot load ONNX model"):
        start_model(FinetuneConfig(init=str(damaged), device="cpu"), ["ab"], lines)


def test_finetune_refuses_bad_starts(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="line model"):
        start_model(FinetuneConfig(init="letters", device="cpu"), ["ab"])
    with pytest.raises(ConfigError, match="held_out"):
        FinetuneConfig(held_out=1.5)
    for bad in ({"invert": 1.5}, {"ema": 1.0}, {"cpu_amp": "sometimes"}):
        with pytest.raises(ConfigError):
            FinetuneConfig(**bad)  # type: ignore[arg-type]


def test_a_small_set_is_passed_over_until_an_epoch_has_its_images(
    tmp_path: Path, tiny_line_run: MakeRun
) -> None:
    """10 labels and epoch_images=40: each epoch is 4 passes (5 batches of 8), so a tiny audit
    point trains as many steps between held-out checks as a large one."""
    run = tiny_line_run(tmp_path / "start", "abc")
    lines = np.random.default_rng(0).integers(0, 256, (12, 32, 256, 1), dtype=np.uint8)
    texts = ["ab", "c", "ba", "cab", "a", "bc", "ca", "b", "abc", "cc", "ab", "ba"]
    cfg = FinetuneConfig(init=str(run), device="cpu", epochs=2, epoch_images=40, batch_size=8,
                         minutes=0, ema=0.5, soup=1)  # fmt: skip
    fitted = fit(cfg, (lines[:10], texts[:10]), (lines[10:], texts[10:]))
    assert [r["step"] for r in fitted.history] == [5, 10]
    once = fit(replace(cfg, epoch_images=1), (lines[:10], texts[:10]), (lines[10:], texts[10:]))
    assert [r["step"] for r in once.history] == [2, 4]


def test_without_a_time_budget_the_same_seed_trains_the_same_way(
    tmp_path: Path, tiny_line_run: MakeRun
) -> None:
    """A time budget makes the learning rate follow the clock; without one, a seed decides all."""
    run = tiny_line_run(tmp_path / "start", "abc")
    lines = np.random.default_rng(0).integers(0, 256, (12, 32, 256, 1), dtype=np.uint8)
    texts = ["ab", "c", "ba", "cab", "a", "bc", "ca", "b", "abc", "cc", "ab", "ba"]
    train, val = (lines[:10], texts[:10]), (lines[10:], texts[10:])
    cfg = FinetuneConfig(init=str(run), device="cpu", epochs=2, epoch_images=20, batch_size=4,
                         minutes=0, soup=2)  # fmt: skip
    losses = [
        [r["loss"] for r in fit(c, train, val).history] for c in (cfg, cfg, replace(cfg, seed=1))
    ]
    assert losses[0] == losses[1] != losses[2]


def test_early_stopping_ends_a_fine_tune_but_not_a_run_from_scratch(
    tmp_path: Path, tiny_line_run: MakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held-out scores that stall at 50 %: a fine-tune stops after `patience` epochs, a run from
    scratch (CTC plateaus last dozens of epochs) goes on to its last epoch; of equal scores the
    latest weights are kept, not the start's."""
    import ocrlab.train.finetune as finetune

    monkeypatch.setattr(finetune, "exact", lambda predicted, truth: 0.5)
    run = tiny_line_run(tmp_path / "start", "abc")
    lines = np.random.default_rng(0).integers(0, 256, (6, 32, 256, 1), dtype=np.uint8)
    data = ((lines[:4], ["ab", "c", "ba", "cab"]), (lines[4:], ["a", "bc"]))
    cfg = FinetuneConfig(init=str(run), device="cpu", epochs=5, epoch_images=4, batch_size=4,
                         minutes=0, patience=2, arch="small", soup=1)  # fmt: skip
    tuned = fit(cfg, *data)
    assert len(tuned.history) == 2  # the start already read 50 %
    start, _, _ = start_model(cfg, data[0][1] + data[1][1])
    assert not torch.equal(tuned.model.head.weight, start.head.weight)  # the later tie is kept
    assert len(fit(replace(cfg, init="none"), *data).history) == 5


def test_several_fine_tunes_are_averaged_within_the_budget(
    tmp_path: Path, tiny_line_run: MakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`soup` fine-tunes from one start, each seeded apart, averaged into the model kept; a
    budget the first one spends trains no second; a mean that reads worse than every one of them
    is dropped for the best of them; a run from scratch trains one."""
    import ocrlab.train.finetune as finetune

    run = tiny_line_run(tmp_path / "start", "abc")
    lines = np.random.default_rng(0).integers(0, 256, (12, 32, 256, 1), dtype=np.uint8)
    texts = ["ab", "c", "ba", "cab", "a", "bc", "ca", "b", "abc", "cc", "ab", "ba"]
    data = ((lines[:10], texts[:10]), (lines[10:], texts[10:]))
    cfg = FinetuneConfig(init=str(run), device="cpu", epochs=2, epoch_images=10, batch_size=5,
                         minutes=0, soup=3, arch="small")  # fmt: skip
    monkeypatch.setattr(finetune, "exact", lambda predicted, truth: 0.5)
    tuned = fit(cfg, *data)
    assert tuned.averaged == 3 and [r["member"] for r in tuned.history] == [1, 1, 2, 2, 3, 3]
    members = [fit(replace(cfg, seed=k, soup=1), *data).model.state_dict() for k in range(3)]
    for key, value in tuned.model.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value, sum(m[key] for m in members) / 3, atol=1e-6), key
        else:
            assert torch.equal(value, members[0][key]), key  # BatchNorm's step count
    assert not torch.equal(members[0]["head.weight"], members[1]["head.weight"])

    ticks = iter(range(0, 10**6, 10))  # a clock 10 s a call: the first spends the minute
    spent = fit(replace(cfg, minutes=1.0), *data, clock=lambda: next(ticks))
    assert spent.averaged == 1 and {r["member"] for r in spent.history} == {1}

    averaged: list[int] = []
    monkeypatch.setattr(finetune, "average_weights", lambda ms: averaged.append(1) or ms[0])
    monkeypatch.setattr(finetune, "exact", lambda predicted, truth: 0.0 if averaged else 0.5)
    dropped = fit(cfg, *data)
    assert averaged and dropped.averaged == 1 and dropped.accuracy == 0.5
    assert fit(replace(cfg, init="none"), *data).averaged == 1


@pytest.mark.parametrize(("filled", "smoothed"), [(0, 0), (3, 5)])
def test_a_fine_tuned_model_reads_its_scheme_unframed_on_every_path(
    tmp_path: Path, tiny_line_run: MakeRun, filled: int, smoothed: int
) -> None:
    """Fine-tuning learns the scheme's images as they come: its training lines, the run folder's
    reader, `ocrlab eval`'s loader and the exported ONNX file all skip `frame`, which the general
    reader's own preprocessing applies to the same tight crops, and all take medians by `median`
    and close the ink by `fill` where the fine-tune was told to; none looks again in colour, as
    the start did: the model learnt the scheme in luma."""
    from ocrlab.read.evaluate import load_for
    from ocrlab.read.onnx import OnnxPredictor, export_onnx
    from ocrlab.runtime.checkpoint import load_checkpoint, save_checkpoint
    from ocrlab.runtime.line import frame
    from ocrlab.runtime.preprocess import PREPROCESS, prepare

    data = labelled_folder(tmp_path / "data", ["ca", "cac", "cc", "acc"])
    for png in sorted(data.glob("*.png")):  # crop each to a pixel round its ink: a tight crop
        with Image.open(png) as im:
            left, top, right, bottom = im.point(lambda v: 255 * (v < 128)).getbbox()
            im.crop((left - 1, top - 1, right + 1, bottom + 1)).save(png)
    first = data / "0.png"
    grey = np.asarray(Image.open(first))
    assert frame(grey) is not grey  # the general reader would give it a margin
    steps = FinetuneConfig().steps(filled, smoothed)
    assert steps == LineSteps(False, filled, median=smoothed, crop=True)
    unframed = prepare("line", steps)(first, None, "L")
    assert not np.array_equal(PREPROCESS["line"](first, None, "L"), unframed)
    if filled:
        as_it_comes = prepare("line", LineSteps(False, crop=True))(first, None, "L")
        assert not np.array_equal(as_it_comes, unframed)
    out, start = tmp_path / "tuned", tiny_line_run(tmp_path / "start", "abc")
    save_checkpoint(start, replace(load_checkpoint(start), colour=True, wide=True))  # as general
    assert main(["train", "finetune", "--data", str(data), "--out", str(out), "--init", str(start),
                 "--set", "epochs=1", "--set", "epoch_images=4", "--set", f"fills=[{filled}]",
                 "--set", f"medians=[{smoothed}]",
                 "--workers", "1", "--device", "cpu"]) == 0  # fmt: skip
    reader = load(out)
    assert reader.checkpoint.frame is False  # type: ignore[attr-defined]
    assert reader.checkpoint.fill == filled  # type: ignore[attr-defined]
    assert reader.checkpoint.median == smoothed  # type: ignore[attr-defined]
    assert reader.checkpoint.crop is True  # type: ignore[attr-defined]
    assert reader.checkpoint.colour is False  # type: ignore[attr-defined]
    assert reader.checkpoint.wide is False  # type: ignore[attr-defined]
    assert np.array_equal(reader.preprocess([first])[0], unframed)  # type: ignore[attr-defined]
    loaded = load_for(reader, [data])  # type: ignore[arg-type]
    assert np.array_equal(loaded.images[loaded.texts.index("ca")], unframed)
    onnx = OnnxPredictor(export_onnx(out, tmp_path / "tuned.onnx"))
    assert onnx.checkpoint.steps == steps and not onnx.checkpoint.colour
    assert not onnx.checkpoint.wide
    assert np.array_equal(onnx.preprocess([first])[0], unframed)
    assert load("general").checkpoint.frame is True  # type: ignore[attr-defined]
    for bad in ((), (2,), (0, 4)):
        with pytest.raises(ConfigError, match="fills are 0 or odd numbers"):
            FinetuneConfig(fills=bad)
        with pytest.raises(ConfigError, match="medians are 0 or odd numbers"):
            FinetuneConfig(medians=bad)


def test_the_cleaning_the_start_reads_the_labels_best_with_is_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`choose_steps` has the start (the general reader) read the labelled images under each
    median and closing: lines that show the labels' texts win over lines that show others, where
    they read enough more of them to be sure; equal readings keep the first; one choice, a fresh
    model or no labels choose without reading."""
    import ocrlab.train.finetune as finetune
    from ocrlab.runtime.preprocess import prepare

    texts = ["cab", "bca", "abc", "cc", "acb", "ba", "bac", "ca", "cba", "ac", "bb", "aab"]
    data = labelled_folder(tmp_path / "data", texts)
    step = prepare("line", LineSteps(False))
    right = np.stack([step(data / f"{i}.png", None, "L") for i in range(len(texts))])
    wrong = right[::-1]  # every line shows another label's text
    cfg = FinetuneConfig(device="cpu")
    asked: list[tuple[int, int]] = []
    best = cfg.steps(fill=3, median=5)

    def lines_with(steps: LineSteps) -> np.ndarray:
        asked.append((steps.median, steps.fill))
        return right if steps == best else wrong

    def unread(steps: LineSteps) -> np.ndarray:
        raise AssertionError("nothing should be prepared")

    assert choose_steps(cfg, lines_with, texts) == best
    assert asked == [(m, f) for m in (0, 3, 5) for f in (0, 3, 5)]
    assert choose_steps(cfg, lines_with, texts[:8]) == cfg.steps()  # 8 of 8 more: not sure
    assert choose_steps(cfg, lambda steps: right, texts) == cfg.steps()
    one = replace(cfg, fills=(3,), medians=(5,))
    assert choose_steps(one, unread, texts) == cfg.steps(fill=3, median=5)
    assert choose_steps(replace(cfg, init="none"), unread, texts) == cfg.steps()
    assert choose_steps(cfg, unread, []) == cfg.steps()
    monkeypatch.setattr(finetune, "CHOOSE_Z", 3.5)  # 12 more of 12 is 3.46 deviations
    assert choose_steps(cfg, lines_with, texts) == cfg.steps()


def test_unlabelled_images_teach_the_later_fine_tunes_by_the_first_ones_sure_readings(
    tmp_path: Path, tiny_line_run: MakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-training: the first fine-tune learns the labels alone; the unlabelled lines it reads
    at least `sure` confidently join the labels of every later one, labelled by its readings;
    readings no surer than that teach nothing."""
    import ocrlab.train.finetune as finetune

    run = tiny_line_run(tmp_path / "start", "abc")
    lines = np.random.default_rng(0).integers(0, 256, (20, 32, 256, 1), dtype=np.uint8)
    texts = ["ab", "c", "ba", "cab", "a", "bc", "ca", "b", "abc", "cc", "ab", "ba"]
    data = ((lines[:10], texts[:10]), (lines[10:12], texts[10:12]))
    taught_by: list[tuple[CRNN, list[str]]] = []
    pupils: list[list[str]] = []
    read_sure, train_one = finetune.read_sure, finetune._train_one

    def reading(model: CRNN, *args: object) -> tuple[np.ndarray, list[str]]:
        keep, read = read_sure(model, *args)  # type: ignore[arg-type]
        taught_by.append((model, read))
        return keep, read

    def training(cfg: FinetuneConfig, k: int, best: object, train: tuple, *args: object) -> object:
        pupils.append(list(train[1]))
        return train_one(cfg, k, best, train, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(finetune, "read_sure", reading)
    monkeypatch.setattr(finetune, "_train_one", training)
    cfg = FinetuneConfig(init=str(run), device="cpu", epochs=2, epoch_images=10, batch_size=5,
                         minutes=0, soup=3, sure=1e-30)  # fmt: skip
    tuned = fit(cfg, *data, unlabelled=lines[12:])
    ((teacher, read),) = taught_by
    assert read and tuned.taught == len(read) <= 8
    assert pupils == [texts[:10], texts[:10] + read, texts[:10] + read]
    first = fit(replace(cfg, soup=1), *data)  # the teacher is the first fine-tune, as it ends
    assert torch.equal(teacher.head.weight, first.model.head.weight)
    pupils.clear()
    unsure = fit(replace(cfg, sure=1.0), *data, unlabelled=lines[12:])
    assert unsure.taught == 0 and pupils == [texts[:10]] * 3


def test_with_no_labels_the_start_teaches_by_its_sure_readings(
    tmp_path: Path, tiny_line_run: MakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unlabelled images alone: no held-out part, so each fine-tune runs `blind_epochs` and keeps
    its last weights; their mean is dropped if it gives back fewer of the taught readings than
    every one of them; a start sure of nothing, a run from scratch and no images at all are
    refused with what to do instead."""
    import ocrlab.train.finetune as finetune

    run = tiny_line_run(tmp_path / "start", "abc")
    lines = np.random.default_rng(0).integers(0, 256, (8, 32, 256, 1), dtype=np.uint8)
    none = (lines[:0], [])
    cfg = FinetuneConfig(init=str(run), device="cpu", epoch_images=8, batch_size=4, minutes=0,
                         soup=2, sure=1e-30, blind_epochs=3)  # fmt: skip
    tuned = fit(cfg, none, none, unlabelled=lines)
    assert tuned.taught > 0 and tuned.averaged == 2 and tuned.accuracy == 0.0
    assert [(r["member"], r["epoch"], r["held_out"]) for r in tuned.history] == [
        (m, e, None) for m in (1, 2) for e in (1, 2, 3)
    ]
    averaged: list[int] = []
    average = finetune.average_weights
    monkeypatch.setattr(finetune, "average_weights", lambda ms: averaged.append(1) or average(ms))
    monkeypatch.setattr(finetune, "exact", lambda predicted, truth: 0.0 if averaged else 0.5)
    dropped = fit(cfg, none, none, unlabelled=lines)
    assert averaged and dropped.averaged == 1 and dropped.accuracy == 0.0
    monkeypatch.undo()
    with pytest.raises(DatasetError, match="reads none of the 8 unlabelled images"):
        fit(replace(cfg, sure=1.0), none, none, unlabelled=lines)
    with pytest.raises(ConfigError, match="from scratch uses labels only"):
        fit(replace(cfg, init="none"), (lines, ["ab"] * 8), none, unlabelled=lines)
    with pytest.raises(DatasetError, match="needs labelled images, unlabelled ones or both"):
        fit(cfg, none, none)


def test_finetune_cli_learns_from_a_half_labelled_folder_and_from_unlabelled_images_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_line_run: MakeRun
) -> None:
    """`--unlabelled` takes the images no labels file of `--data` names (a folder half labelled
    in the browser), skips unreadable ones saying why, and works without `--data`; such a run
    records what taught it and has no held-out part to evaluate. A labelled image that does not
    decode is skipped and said too."""
    from ocrlab.data.load import unlabelled_images
    from ocrlab.runtime.preprocess import prepare

    run = tiny_line_run(tmp_path / "start", "abc")
    data = labelled_folder(tmp_path / "data", ["ab", "ba", "abc", "cab", "bca", "ac", "ca", "cc"])
    for i in range(8, 12):
        Image.open(data / f"{i - 8}.png").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(
            data / f"{i}.png"
        )
    (data / "12.png").write_bytes(b"not a png")
    (data / "13.png").write_bytes(b"truncated")
    with (data / "labels.csv").open("a") as fh:
        fh.write("13.png,abc\n")
    step = prepare("line", LineSteps(False))
    lines, skipped = unlabelled_images([data], [data], mode="L", prepare=step)
    assert lines.shape == (4, 32, 1024, 1) and list(skipped) == [str(data / "12.png")]
    assert len(unlabelled_images([data], mode="L", prepare=step)[0]) == 12  # every image
    common = ["--init", str(run), "--workers", "1", "--device", "cpu", "--set", "sure=1e-30",
              "--set", "epoch_images=8", "--set", "epochs=1",
              "--set", "blind_epochs=1"]  # fmt: skip
    half = ["train", "finetune", "--data", str(data), "--unlabelled", str(data)]
    assert main([*half, "--out", str(tmp_path / "half"), *common]) == 0
    out = capsys.readouterr()
    assert "8 labelled images, 4 unlabelled" in out.out and "12.png" in out.err
    assert f"skipping 1 unreadable labelled image(s):\n  cannot decode {data / '13.png'}" in out.err
    alone = tmp_path / "alone"
    assert main(["train", "finetune", "--unlabelled", str(data), "--out", str(alone), *common]) == 0
    out = capsys.readouterr()
    assert "no labelled image to measure on" in out.out and "nothing measured it" in out.err
    ckpt = json.loads((alone / "checkpoint.json").read_text())
    assert ckpt["split"]["unlabelled"] == 12 and ckpt["split"]["held_out"] == 0
    assert ckpt["split"]["taught"] > 0 and ckpt["metrics"]["held_out_exact"] is None
    held = ["eval", "--model", str(alone), "--data", str(data), "--held-out", "--device", "cpu"]
    assert main(held) == 2 and "held no labelled image out" in capsys.readouterr().err
    assert main(["train", "finetune", "--out", str(tmp_path / "nothing"), *common]) == 2
    assert "give --data" in capsys.readouterr().err
