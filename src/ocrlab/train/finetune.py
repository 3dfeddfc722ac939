"""Fine-tune a line reader (CRNN-CTC) on a few hundred labelled images of one CAPTCHA style.

The start is any line model a reader takes (a shipped name such as 'general', a run folder, or an
exported `.onnx` file, read back by `ocrlab.train.from_onnx`) or nothing ('none': a fresh CRNN, the
comparison). Characters the labels add get fresh rows in the output layer; known characters keep
their rows, matched by character, not by position, so before training the model reads every known
character exactly as the start did; a narrower charset drops the rows of the characters it leaves
out. The recipe (preset 'finetune'): the images cleaned first where the start reads clearly more of
the labels so (`choose_steps`: a dot screen closed into solid strokes, a grid of thin lines wiped by
a median), a seeded held-out split, AdamW with half the learning rate for the CNN that the LSTM and
the head get, light affine warps and negatives on the device, bf16 autocast where the CPU computes
it natively, an exponential moving average of the weights, early stopping on the held-out exact
match and a time budget; the best average is kept (of equal scores, the latest). The average is what
generalises from a few hundred labels: 54.3 % of unseen stencil CAPTCHAs with it, 43.2 % without
(`benchmarks/bench_finetune.py --styles stencil --only general --set ema=0`). A fine-tune stops
early, well inside its budget, so the rest of the budget trains more fine-tunes from the same start,
each with its own order and augmentation, and the model kept is their weights averaged (a "model
soup", Wortsman et al. 2022): it reads as one model, and it reads more than any of them. Unlabelled
images of the scheme teach too: the first fine-tune's confident readings of them (with no labels at
all, the start's) serve as their labels for the later ones (self-training): with no label at all,
the general reader's sure readings of 640 captcha_images_v2 images taught it to read 97.5 % of 400
others, from 71.2 % (docs/finetune.md, "Unlabelled images teach too").
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ocrlab.charset import SPECIALS, Charset, Tokenizer
from ocrlab.config import to_dict
from ocrlab.data.split import held_out_split, labels_digest
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.models import build
from ocrlab.models.crnn import CRNN, line_input
from ocrlab.runtime import checkpoint
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.device import resolve_device
from ocrlab.runtime.line import MARGIN, LineSteps, text_widths, valid_side
from ocrlab.runtime.shipped import run_folder
from ocrlab.train.batches import augment
from ocrlab.train.charset_rows import carry_rows
from ocrlab.train.from_onnx import load_exported
from ocrlab.train.general import ARCHS, ctc_loss, ctc_paths, ctc_tokens, encode_targets
from ocrlab.train.loop import CpuAmp, check_cpu_amp, use_bf16

NONE = "none"
"""`init` for a fresh model: training from scratch."""


@dataclass(frozen=True)
class FinetuneConfig:
    """A fine-tuning run: where it starts, the split and the recipe."""

    init: str = "general"
    """A shipped line model's name, a run folder or an exported .onnx file; 'none' trains a fresh
    `arch` CRNN."""
    arch: str = "large"
    """CRNN size when `init` is 'none' (`ocrlab.train.general.ARCHS`; large = the general's)."""
    charset: str = ""
    """The scheme's alphabet (`Charset.parse`: 'digits+upper' or the characters); empty: the
    start's charset and every character of the labels. Narrower than the start's, it masks the
    rest: their output rows are dropped, so no reader (torch, ONNX, server) can spell a
    character the scheme never uses."""
    held_out: float = 0.15
    batch_size: int = 16
    pad_columns: int = MARGIN
    """Columns of padding a training batch keeps right of its longest text: as many as reading
    keeps, and training's epochs take about 30 % less time than with 64 for as many points or
    more (docs/finetune.md, "cost")."""
    lr_cnn: float = 1e-3
    lr_top: float = 2e-3
    """Learning rate of the LSTM and the head (and of everything when training from scratch)."""
    weight_decay: float = 0.01
    warmup: int = 20
    freeze_epochs: int = 0
    """Epochs with the CNN frozen (its BatchNorm statistics too, and no backward pass through it)
    at the start of fine-tuning; none from scratch."""
    epochs: int = 200
    epoch_images: int = 800
    """Images an epoch shows at least: a set smaller than this is passed over several times
    between held-out checks, so 50 labels get as many steps before early stopping as 850."""
    patience: int = 6
    """Stop a fine-tune after this many epochs without a better held-out exact match. Training
    from scratch runs its budget: CTC sits on plateaus for dozens of epochs before it reads."""
    augment: float = 1.0
    """Strength of the affine warps (0: none)."""
    frame: bool = False
    """Whether the lines are framed (`ocrlab.runtime.line.frame`), as the general reader reads
    them; off, the model learns and reads the scheme's images as they come. A frame shrinks
    glyphs that fill their image: the stencil scheme read 57.1 % unframed, 45.6 % framed
    (`benchmarks/bench_finetune.py --styles stencil --only general [--set frame=true]`)."""
    crop: bool = True
    """Whether the lines are cut to their text's rows first (`ocrlab.runtime.line.crop`), so the
    scheme's glyphs reach the reader's 32 rows as large as they fit: stencil CAPTCHAs, drawn some
    40 rows high on 64, read 69.0 % cut and 64.9 % as they came, from 1,000 labels
    (docs/finetune.md, "Text rows")."""
    fills: tuple[int, ...] = (0, 3, 5)
    """Closings of each image's ink before it becomes a line (`ocrlab.runtime.line.fill`: the
    side of the square in pixels, odd; 0: none) that a fine-tune chooses between, with `medians`:
    the one under which the start reads clearly more of the labels (`choose_steps`), kept in the
    run folder so that every reader prepares images alike. A scheme drawing its glyphs as a dot
    screen keeps them solid at 32 rows instead of grey: the stencil scheme chose 3 and read 60.1 %
    after one fine-tune, 55.3 % without (docs/finetune.md, "Dot screens"); captcha_images_v2's
    solid glyphs choose 0. One value forces it; without labels, or from scratch, the first is
    used."""
    medians: tuple[int, ...] = (0, 3, 5)
    """Medians taken over each image before its closing (`ocrlab.runtime.line.median`: the side of
    the square, odd; 0: none), chosen with `fills`: a scheme drawn over by thin lines loses them.
    The tiles scheme's grid goes at 5, and one fine-tune read 69.5 % instead of 47.2 %
    (docs/finetune.md, "Lines drawn over")."""
    invert: float = 0.5
    """Chance that a training image is shown in negative: text reads the same either way, and it
    doubles what a few hundred labels teach about ink against paper."""
    ema: float = 0.99
    """Decay of an exponential moving average of the weights, which is what is judged and kept
    (0: the weights themselves). A few hundred labels overfit fast; the average generalises."""
    soup: int = 4
    """Fine-tunes whose weights are averaged into the model kept (`average_weights`): each from
    the same start and split, with seed `seed + k` for its order and augmentation; another one
    starts while the budget left is at least what the first took (with no budget, all of them).
    A run from scratch trains one: fresh models share no start to average around."""
    sure: float = 0.9
    """Confidence (the product of a reading's character probabilities, as every reader reports
    it) at or above which a reading of an unlabelled image serves as its label: the general
    reader's readings of captcha_images_v2 at 0.9 or more are 96 % right (306 of 640 images)."""
    blind_epochs: int = 15
    """Epochs of each fine-tune when no image is labelled (unlabelled images only): with no
    held-out part to stop on, each runs this many (or its budget) and keeps its last weights."""
    minutes: float = 10.0
    """Time budget (0: none); the learning rate decays over it, so it follows the clock: only a
    run without a budget repeats bit for bit from its seed."""
    seed: int = 0
    device: str = "auto"
    cpu_amp: CpuAmp = "auto"
    """bf16 autocast on the CPU: off, on, or auto (on where the CPU computes bf16 natively: 4.4
    steps a second of 2 AVX512-BF16 cores instead of 3.0, `benchmarks/bench_finetune.py --set
    cpu_amp=off`). CUDA always trains in bf16 autocast."""

    def __post_init__(self) -> None:
        if not 0 < self.held_out < 1:
            raise ConfigError(f"held_out must be between 0 and 1, got {self.held_out}")
        if self.arch not in ARCHS:
            raise ConfigError(f"unknown arch {self.arch!r}; choose from {list(ARCHS)}")
        sizes = (self.batch_size, self.epochs, self.epoch_images, self.patience, self.soup,
                 self.blind_epochs)  # fmt: skip
        if min(sizes) < 1:
            raise ConfigError(
                "batch_size, epochs, epoch_images, patience, soup and blind_epochs must be at "
                "least 1"
            )
        for name, sides in (("fills", self.fills), ("medians", self.medians)):
            if not sides or not all(map(valid_side, sides)):
                raise ConfigError(f"{name} are 0 or odd numbers of pixels from 3, got {sides!r}")
        if not 0 < self.sure <= 1:
            raise ConfigError(f"sure is a confidence in (0, 1], got {self.sure}")
        if self.minutes < 0:
            raise ConfigError(f"a time budget is minutes ≥ 0 (0: none), got {self.minutes}")
        if not 0 <= self.invert <= 1 or not 0 <= self.ema < 1:
            raise ConfigError(f"invert must be in [0, 1] and ema in [0, 1), got {self}")
        check_cpu_amp(self.cpu_amp)

    @property
    def scratch(self) -> bool:
        return self.init == NONE

    def steps(self, fill: int = 0, median: int = 0) -> LineSteps:
        """This fine-tune's preprocessing, with the ink closing `fill` and the median `median`."""
        return LineSteps(self.frame, fill, median=median, crop=self.crop)

    def cleanings(self) -> list[LineSteps]:
        """The preprocessings `choose_steps` chooses between, the default first: each of
        `medians` followed by each of `fills`."""
        return [self.steps(fill, median) for median in self.medians for fill in self.fills]


PRESETS: dict[str, dict[str, Any]] = {"finetune": {}}
"""Named recipes: overrides of `FinetuneConfig`'s defaults, which are the 'finetune' recipe."""


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return dict(PRESETS[name])


@dataclass
class Fit:
    """What training gave: the best model, its held-out exact match and the epochs' log (each
    record names its fine-tune, `member`, 1 to `FinetuneConfig.soup`)."""

    model: CRNN
    charset: str
    max_len: int
    accuracy: float
    seconds: float
    history: list[dict[str, Any]] = field(default_factory=list)
    stopped: bool = False
    """Whether a stop request (Ctrl-C, `ocrlab.train.stopping`) ended training early."""
    averaged: int = 1
    """How many fine-tunes' weights `model` is the mean of (`FinetuneConfig.soup`)."""
    taught: int = 0
    """Unlabelled images whose confident readings were trained on as their labels."""


def extend_head(model: CRNN, old: str, new: str) -> CRNN:
    """A copy of `model` spelling charset `new`: the specials and every character of `old` keep
    their output rows (matched by character), characters new to it get freshly initialised ones."""
    out = build("crnn", **{**model.config, "vocab_size": len(SPECIALS) + len(new)})
    assert isinstance(out, CRNN)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("head.")}
    out.load_state_dict({**state, **carry_rows(model, out, ("head.weight", "head.bias"), old, new)})
    return out


def start_model(
    cfg: FinetuneConfig, texts: Sequence[str], lines: np.ndarray | None = None
) -> tuple[CRNN, str, int]:
    """The model training starts from, its charset (the start's, then the labels' new characters)
    and the longest text it spells. An exported `.onnx` start needs `lines`, the labels' lines,
    to measure what its folded BatchNorms had (`ocrlab.train.from_onnx`)."""
    longest = max(map(len, texts), default=0)
    torch.manual_seed(cfg.seed)
    scheme = Charset.parse(cfg.charset).chars if cfg.charset else ""
    if scheme and (outside := Charset(scheme).missing(texts)):
        raise DatasetError(f"labels use characters outside the charset {scheme!r}: {outside!r}")
    if cfg.scratch:
        chars = scheme or Charset.from_texts(texts).chars
        model = build("crnn", vocab_size=len(SPECIALS) + len(chars), **ARCHS[cfg.arch])
        assert isinstance(model, CRNN)
        return model, chars, longest
    path = run_folder(cfg.init)
    exported = path.is_file() and path.suffix == ".onnx"
    start, ckpt = load_exported(path, lines) if exported else _load_run(path)
    chars = scheme or ckpt.charset + Charset(ckpt.charset).missing(texts)
    return extend_head(start, ckpt.charset, chars), chars, max(ckpt.max_len, longest)


def _load_run(path: Path) -> tuple[CRNN, Checkpoint]:
    """The CRNN of a line model's run folder, and its checkpoint."""
    ckpt = checkpoint.load_checkpoint(path)
    if ckpt.kind != "line" or ckpt.model != "crnn":
        raise DatasetError(
            f"{path} holds a {ckpt.kind} model; fine-tuning starts from a line model"
        )
    model = checkpoint.load_model(path, ckpt, lambda: build("crnn", **ckpt.model_config))
    assert isinstance(model, CRNN)
    return model, ckpt


def read_lines(
    model: nn.Module, charset: str, lines: np.ndarray, device: torch.device
) -> list[str]:
    """Greedy CTC readings of (N, H, W, 1) uint8 lines, each at its reading width."""
    model.eval()
    return ["".join(charset[t - len(SPECIALS)] for t in ids if t >= len(SPECIALS))
            for ids in ctc_tokens(model, lines, device)]  # fmt: skip


def read_sure(
    model: nn.Module, charset: str, lines: np.ndarray, device: torch.device, sure: float
) -> tuple[np.ndarray, list[str]]:
    """The indices of the lines whose greedy reading is at least `sure` confident, and those
    readings: what unlabelled images teach."""
    keep, texts = [], []
    for i, path in enumerate(ctc_paths(model.eval(), lines, device)):
        chars = [(charset[t - len(SPECIALS)], p) for t, p in path if t >= len(SPECIALS)]
        if chars and math.prod(p for _, p in chars) >= sure:
            keep.append(i)
            texts.append("".join(c for c, _ in chars))
    return np.array(keep, dtype=np.int64), texts


def exact(predicted: Sequence[str], truth: Sequence[str]) -> float:
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / max(len(truth), 1)


def _lr_scale(cfg: FinetuneConfig, step: int, total: int, seconds: float, budget: float) -> float:
    """Linear warm-up, then cosine decay to 5 % over the epochs or the `budget` seconds (0:
    none), whichever runs out first."""
    t = max(step / total, seconds / budget if budget else 0.0)
    cosine = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    return min(1.0, (step + 1) / cfg.warmup) * cosine


def average_weights(models: Sequence[CRNN]) -> CRNN:
    """One model whose weights and BatchNorm statistics are the mean of `models`', all
    fine-tuned from one start: they stay close enough to it for their mean to read, and it
    reads more than each (Wortsman et al. 2022, "Model soups").
    Four fine-tunes of the stencil scheme read 55.7 % of unseen images on average, their mean
    61.7 % (docs/finetune.md)."""
    out = copy.deepcopy(models[0])
    states = [m.state_dict() for m in models]
    mean = {k: sum(s[k] for s in states) / len(states) for k, v in states[0].items()
            if v.is_floating_point()}  # fmt: skip
    out.load_state_dict({**states[0], **mean})  # BatchNorm's step counts stay the first's
    return out.eval()


def fit(
    cfg: FinetuneConfig,
    train: tuple[np.ndarray, Sequence[str]],
    val: tuple[np.ndarray, Sequence[str]],
    log: Callable[[dict[str, Any]], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    stop: Callable[[], bool] = lambda: False,
    unlabelled: np.ndarray | None = None,
) -> Fit:
    """Train from `cfg.init` on `train` lines and texts; keep the weights that read `val` best.
    `clock` measures the time budget (a benchmark on a shared machine passes CPU time); `stop`,
    checked after every step like the budget, ends training early (Ctrl-C, `ctrl_c_stops`).

    Up to `cfg.soup` fine-tunes run one after another within the budget and the mean of their
    weights is kept (`average_weights`), unless it reads the held-out part worse than the worst
    of them (then the best of them is kept). `unlabelled` lines teach every fine-tune after the
    first with the first one's readings of them that are `cfg.sure` (self-training); with no
    labels at all, every fine-tune learns the start's sure readings, for `cfg.blind_epochs`,
    and the mean is judged by how many of those readings it gives back.
    """
    device = resolve_device(cfg.device)
    texts, labelled = [*train[1], *val[1]], len(train[1]) > 0
    if not labelled and unlabelled is None:
        raise DatasetError("fine-tuning needs labelled images, unlabelled ones or both")
    if cfg.scratch and unlabelled is not None:
        raise ConfigError("a fresh model reads nothing: training from scratch uses labels only")
    start, charset, max_len = start_model(cfg, texts, train[0] if labelled else unlabelled)
    start.to(device)
    # The start itself is a candidate: fine-tuning never returns a model worse than it began.
    start_acc = -1.0 if cfg.scratch else _held_out(start, charset, val, device)
    began = clock()
    members: list[Fit] = []
    taught, pupils = 0, train
    for k in range(1 if cfg.scratch else cfg.soup):
        left = cfg.minutes * 60 - (clock() - began) if cfg.minutes else 0.0
        if k and (stop() or (cfg.minutes and left < members[0].seconds)):
            break
        if unlabelled is not None and k == int(labelled):  # the teacher: the first, or the start
            teacher = members[0].model if labelled else start
            pupils, taught = _with_readings(
                cfg, teacher, charset, max_len, train, unlabelled, device
            )
        candidate = Fit(copy.deepcopy(start), charset, max_len, start_acc, 0.0)
        members.append(_train_one(cfg, k, candidate, pupils, val, device, log, clock, stop, left))
    judge = val if labelled else pupils  # no labels: the taught readings show a broken model
    if not labelled:
        for m in members:
            m.accuracy = _held_out(m.model, charset, judge, device)
    best = max(reversed(members), key=lambda m: m.accuracy)  # of equal scores, the later
    if len(members) > 1:
        mean = average_weights([m.model for m in members])
        acc = _held_out(mean, charset, judge, device)
        if acc >= min(m.accuracy for m in members):
            best = Fit(mean, charset, max_len, acc, 0.0, averaged=len(members))
    if not labelled:
        best.accuracy = 0.0  # agreement with its own teaching is no measure of reading
    history = [{**r, "member": k + 1} for k, m in enumerate(members) for r in m.history]
    return replace(best, seconds=clock() - began, history=history, stopped=stop(), taught=taught)


def _with_readings(
    cfg: FinetuneConfig,
    teacher: CRNN,
    charset: str,
    max_len: int,
    train: tuple[np.ndarray, Sequence[str]],
    unlabelled: np.ndarray,
    device: torch.device,
) -> tuple[tuple[np.ndarray, list[str]], int]:
    """`train` and the unlabelled lines `teacher` reads at least `cfg.sure` confidently (in at
    most `max_len` characters), labelled by those readings; and how many of them joined."""
    keep, read = read_sure(teacher, charset, unlabelled, device, cfg.sure)
    fits = np.array([len(t) <= max_len for t in read], dtype=bool)
    keep, read = keep[fits], [t for t, ok in zip(read, fits, strict=True) if ok]
    if not len(train[1]) and not len(keep):
        raise DatasetError(
            f"the start reads none of the {len(unlabelled)} unlabelled images with confidence "
            f"{cfg.sure} or more; label some of them (ocrlab label FOLDER)"
        )
    return (np.concatenate([train[0], unlabelled[keep]]), [*train[1], *read]), len(keep)


def _held_out(
    model: nn.Module, charset: str, val: tuple[np.ndarray, Sequence[str]], device: torch.device
) -> float:
    """Exact match on the held-out part; 0 where there is none (no labels: every epoch ties, so
    the latest weights are kept)."""
    return exact(read_lines(model, charset, val[0], device), val[1]) if len(val[1]) else 0.0


def _train_one(
    cfg: FinetuneConfig,
    k: int,
    best: Fit,
    train: tuple[np.ndarray, Sequence[str]],
    val: tuple[np.ndarray, Sequence[str]],
    device: torch.device,
    log: Callable[[dict[str, Any]], None] | None,
    clock: Callable[[], float],
    stop: Callable[[], bool],
    budget: float,
) -> Fit:
    """Fine-tune k of `fit` (seed `cfg.seed + k`) from `best.model`, the start, for at most
    `budget` seconds (0: none); returns `best` with the weights that read `val` best (with no
    held-out part, `cfg.blind_epochs` epochs and the last weights).

    A batch is cut to its longest text plus `cfg.pad_columns` of padding: the CNN's cost is
    its width, and a short CAPTCHA fills some 100 of the line's 1,024 columns. The held-out
    checks read as every reader does (`read_lines`: each line at its bucket's width).
    """
    model, charset, seed = copy.deepcopy(best.model), best.charset, cfg.seed + k
    targets, lengths = encode_targets(Tokenizer(Charset(charset), best.max_len), train[1])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    widths = text_widths(train[0])
    top = [*model.rnn.parameters(), *model.head.parameters()]
    lr_cnn = cfg.lr_top if cfg.scratch else cfg.lr_cnn
    groups = [{"params": model.cnn.parameters(), "lr": lr_cnn, "peak": lr_cnn},
              {"params": top, "lr": cfg.lr_top, "peak": cfg.lr_top}]  # fmt: skip
    opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    n, freeze = len(train[1]), 0 if cfg.scratch else cfg.freeze_epochs
    passes = -(-cfg.epoch_images // n)
    epochs = cfg.epochs if len(val[1]) else cfg.blind_epochs
    total = -(-n * passes // cfg.batch_size) * epochs
    began, step, since_best = clock(), 0, 0
    gen = torch.Generator(device=device).manual_seed(seed)
    average = get_ema_multi_avg_fn(cfg.ema)  # type: ignore[no-untyped-call]
    ema = AveragedModel(model, multi_avg_fn=average, use_buffers=True) if cfg.ema else None
    bf16 = use_bf16(device, cfg.cpu_amp)
    for epoch in range(epochs):
        frozen = epoch < freeze
        model.train()
        model.cnn.train(not frozen)
        shuffle = torch.Generator().manual_seed(seed * 1009 + epoch)
        order = torch.cat([torch.randperm(n, generator=shuffle) for _ in range(passes)])
        loss_sum, seen, out_of_time = 0.0, 0, False
        for s in range(0, len(order), cfg.batch_size):
            idx = np.sort(order[s : s + cfg.batch_size].numpy())
            cols = min(train[0].shape[2], -(-(int(widths[idx].max()) + cfg.pad_columns) // 4) * 4)
            x = torch.from_numpy(train[0][idx, :, :cols]).permute(0, 3, 1, 2).to(device)
            x = augment(line_input(x), gen, cfg.augment) if cfg.augment > 0 else line_input(x)
            if cfg.invert > 0:
                flip = torch.rand(len(idx), generator=gen, device=device) < cfg.invert
                x = torch.where(flip[:, None, None, None], -x, x)
            y = np.concatenate([targets[offsets[i] : offsets[i + 1]] for i in idx])
            scale = _lr_scale(cfg, step, total, clock() - began, budget)
            for group in opt.param_groups:
                group["lr"] = group["peak"] * scale
            with torch.autocast(device.type, torch.bfloat16, enabled=bf16):
                with torch.set_grad_enabled(not frozen):
                    features = model.cnn(x)
                logits = model.read_columns(features)
            loss = ctc_loss(logits, torch.from_numpy(y).to(device), torch.from_numpy(lengths[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            if ema is not None:
                ema.update_parameters(model)
            loss_sum, seen, step = loss_sum + loss.item() * len(idx), seen + len(idx), step + 1
            out_of_time = (budget > 0 and clock() - began > budget) or stop()
            if out_of_time:
                break
        judged = model if ema is None else cast(CRNN, ema.module)
        acc = _held_out(judged, charset, val, device)
        seconds = round(clock() - began, 1)
        record = {"epoch": epoch + 1, "step": step, "seconds": seconds, "frozen_cnn": frozen,
                  "loss": round(loss_sum / max(seen, 1), 4),
                  "held_out": round(acc, 4) if len(val[1]) else None}  # fmt: skip
        best.history.append(record)
        if log is not None:
            log({**record, "member": k + 1})
        if acc >= best.accuracy:  # a tie keeps the later, longer-trained weights
            best.model = copy.deepcopy(judged)
        if acc > best.accuracy:
            best.accuracy, since_best = acc, 0
        elif best.accuracy > 0 and not cfg.scratch:  # patience counts once the model reads
            since_best += 1
        if out_of_time or since_best >= cfg.patience or best.accuracy == 1.0:
            break
    best.seconds = clock() - began
    best.model.eval()
    return best


CHOOSE_ON = 512
"""Labelled images `choose_steps` reads under each preprocessing."""
CHOOSE_Z = 3.0
"""How surely a preprocessing must read more of those images than the default to be chosen: the
images it reads and the default does not, less those the other way round, in standard deviations
of that difference had both read alike (a sign test on the images they read differently)."""


def choose_steps(
    cfg: FinetuneConfig, lines_with: Callable[[LineSteps], np.ndarray], texts: Sequence[str]
) -> LineSteps:
    """The preprocessing of `cfg.cleanings()` under which the start reads the most of the first
    `CHOOSE_ON` labelled images exactly (`lines_with(steps)`: them prepared so, in the order of
    `texts`), if it reads more of them than the default (the first) by `CHOOSE_Z`; else the
    default, also where nothing can judge (from scratch, without labels). A start that reads
    nothing either way gains nothing from a closing: its loss favoured closing the tiles scheme,
    whose first fine-tune then read at best 43 % of the held-out part instead of 55 %; under a
    median of 5 pixels the start read 20 of 512 tiles images and 1 of them without, and a
    fine-tune 69.5 % of the test images instead of 47.2 % (docs/finetune.md, "Dot screens",
    "Lines drawn over")."""
    cleanings = cfg.cleanings()
    if len(cleanings) == 1 or cfg.scratch or not texts:
        return cleanings[0]
    device, texts = resolve_device(cfg.device), texts[:CHOOSE_ON]
    right: list[np.ndarray] = []
    for steps in cleanings:
        lines = lines_with(steps)[: len(texts)]
        if not right:
            model, charset, _ = start_model(cfg, texts, lines)
            model.to(device)
        read = read_lines(model, charset, lines, device)
        right.append(np.array([p == t for p, t in zip(read, texts, strict=True)]))
    best = max(range(len(cleanings)), key=lambda k: int(right[k].sum()))  # of equals, the earlier
    gained, lost = int((right[best] > right[0]).sum()), int((right[best] < right[0]).sum())
    sure = gained - lost >= CHOOSE_Z * math.sqrt(max(1, gained + lost))
    return cleanings[best] if sure else cleanings[0]


def split(n: int, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random (train, held-out) split of n samples, each part sorted."""
    if n < 2:
        raise DatasetError(f"fine-tuning needs at least 2 labelled images, got {n}")
    return held_out_split(n, held_out, seed)


def finetune(
    cfg: FinetuneConfig,
    lines: np.ndarray,
    texts: Sequence[str],
    out: Path,
    data: Sequence[str] = (),
    log: Callable[[dict[str, Any]], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    unlabelled: np.ndarray | None = None,
    steps: LineSteps | None = None,
) -> Fit:
    """Fine-tune on (N, 32, 1024, 1) lines (`prepare("line", steps)`, `steps` one of
    `cfg.cleanings()`, by default the first: `choose_steps`) and their texts, holding out a
    seeded part, and on `unlabelled` lines (`fit`: self-training; with them, N may be 0); writes
    the run folder `out` (weights, checkpoint.json, log.jsonl), also when `stop` ends training
    early: the best epoch so far is kept."""
    if out.exists() and any(out.iterdir()):
        raise DatasetError(f"{out} is not empty; choose a new run folder")
    if len(texts) or unlabelled is None:
        tr, va = split(len(texts), cfg.held_out, cfg.seed)
    else:
        tr = va = np.zeros(0, dtype=np.int64)
    train, val = (lines[tr], [texts[i] for i in tr]), (lines[va], [texts[i] for i in va])
    steps = steps or cfg.cleanings()[0]
    result = fit(cfg, train, val, log, stop=stop, unlabelled=unlabelled)
    taught = "" if unlabelled is None else f" and {result.taught} of {len(unlabelled)} unlabelled"
    out.mkdir(parents=True, exist_ok=True)
    ckpt = Checkpoint(
        kind="line",
        model="crnn",
        model_config=result.model.config,
        input_size=(lines.shape[1], lines.shape[2]),
        channels=1,
        charset=result.charset,
        max_len=result.max_len,
        **checkpoint.learnt_steps(steps),
        data=list(data),
        config=to_dict(cfg),
        title=f"line reader fine-tuned from {cfg.init} on {len(tr)} labelled images{taught}",
        split={
            "seed": cfg.seed,
            "train": len(tr),
            "held_out": len(va),
            "labels": labels_digest(texts),
            **(
                {}
                if unlabelled is None
                else {"unlabelled": len(unlabelled), "taught": result.taught}
            ),
        },
        metrics={
            "held_out_exact": result.accuracy if len(va) else None,
            "seconds": round(result.seconds, 1),
            "fine_tunes_averaged": result.averaged,
            **({"stopped_after_epoch": len(result.history)} if result.stopped else {}),
        },
    )
    checkpoint.save_weights(out / checkpoint.WEIGHTS, result.model)
    checkpoint.save_checkpoint(out, ckpt)
    (out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in result.history))
    return result
