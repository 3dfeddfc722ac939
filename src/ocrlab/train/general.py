"""Train the general reader: CRNN-CTC models on an endless, seeded stream of zoo images.

Nothing touches the disk but checkpoints: batch *b* is zoo samples [b·B, (b+1)·B), rendered by
whichever DataLoader worker gets it, so the batches, and with them the weights, are the same for any
worker count, and a resumed run sees exactly the batches it would have seen. Several architectures
can train side by side on the very same batches (`archs`), which is how the shipped one was chosen.
Each gets its own run folder `out/<arch>/` with the usual `model.safetensors`, `checkpoint.json`
and `state.pt`; `log.jsonl` records the exact-match accuracy of every zoo family, the two held-out
families included, as training goes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ocrlab.charset import PAD, Charset, Tokenizer
from ocrlab.config import from_dict, to_dict
from ocrlab.errors import ConfigError, DatasetError
from ocrlab.models import build
from ocrlab.models.crnn import line_input
from ocrlab.runtime import checkpoint
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.ctc import ctc_greedy
from ocrlab.runtime.device import resolve_device
from ocrlab.runtime.line import HEIGHT, WIDTH, read_in_buckets, to_line
from ocrlab.synth.fonts import FontSpec
from ocrlab.synth.zoo import FAMILIES, Zoo, ZooConfig, zoo_fonts
from ocrlab.train.loop import CpuAmp, check_cpu_amp, use_bf16

ARCHS: dict[str, dict[str, Any]] = {
    "small": {"channels": [16, 32, 64, 128], "hidden": 96},
    "base": {"channels": [32, 64, 128, 192], "hidden": 128},
    "large": {"channels": [48, 96, 192, 256], "hidden": 192},
}
"""CRNN sizes: small reads ~290 lines/s per CPU thread with onnxruntime, base ~115, large ~50."""

LOG, VAL_SEED_OFFSET = "log.jsonl", 1_000_003


@dataclass(frozen=True)
class GeneralConfig:
    """A general-reader training run: models, zoo, schedule."""

    archs: tuple[str, ...] = ("base",)
    zoo: ZooConfig = field(default_factory=ZooConfig)
    fonts: tuple[str, ...] = ("bundled", "system", "packages")
    """Font sources: 'bundled', 'system', 'packages' or folders; reserved families are dropped."""
    steps: int = 20_000
    batch_size: int = 128
    lr: float = 1e-3
    warmup: int = 500
    weight_decay: float = 0.01
    eval_every: int = 1000
    val_per_family: int = 200
    seed: int = 0
    workers: int = 2
    device: str = "auto"
    minutes: float = 0.0
    """Stop at the first checkpoint past this many minutes (0: run all steps)."""
    init: str | None = None
    """A general-reader run whose weights start each architecture (`init/<arch>/` or `init/`)."""
    cpu_amp: CpuAmp = "auto"
    """bf16 autocast on the CPU (auto: where the CPU computes bf16 natively; the large CRNN then
    trains about 1.9 times as fast). CUDA trains in float32 with TF32 matrix products."""

    def __post_init__(self) -> None:
        unknown = [a for a in self.archs if a not in ARCHS]
        if unknown or not self.archs:
            raise ConfigError(f"unknown architectures {unknown}; choose from {list(ARCHS)}")
        if self.steps < 1 or self.batch_size < 1 or self.eval_every < 1:
            raise ConfigError("steps, batch_size and eval_every must be at least 1")
        check_cpu_amp(self.cpu_amp)


def encode_targets(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """CTC targets: all texts' token ids end to end, and each text's length."""
    tokenizer.check(texts)
    ids = [tokenizer.ids[c] for t in texts for c in t]
    return np.asarray(ids, np.int64), np.asarray([len(t) for t in texts], np.int64)


def ctc_loss(logits: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """CTC loss of (B, T, V) column logits against flat targets; blank = `<pad>`. Impossible
    alignments (a label longer than the columns) count zero instead of poisoning the batch."""
    log_probs = F.log_softmax(logits.float(), -1).transpose(0, 1)  # (T, B, V)
    widths = torch.full((len(logits),), logits.shape[1], dtype=torch.long)
    return F.ctc_loss(log_probs, targets, widths, lengths, blank=PAD, zero_infinity=True)


ZOO_WIDTH = 256
"""Columns of a training line, as the shipped model was trained: some 97 % of zoo lines fit; the
rest (12 characters on the widest canvases, up to some 470 columns) are squeezed to it in
training, while readers keep their shape up to `WIDTH`."""


class ZooBatches(Dataset[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]):
    """Batch b of the zoo stream: (B, 1, H, W) uint8 lines, flat targets, target lengths."""

    def __init__(self, zoo: Zoo, tokenizer: Tokenizer, batch_size: int, count: int) -> None:
        self.zoo, self.tokenizer, self.batch_size, self.count = zoo, tokenizer, batch_size, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, b: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        samples = [self.zoo.sample(b * self.batch_size + k) for k in range(self.batch_size)]
        x = np.stack([to_line(s.image, HEIGHT, ZOO_WIDTH) for s in samples])[:, None]
        targets, lengths = encode_targets(self.tokenizer, [s.text for s in samples])
        return torch.from_numpy(x), torch.from_numpy(targets), torch.from_numpy(lengths)


def validation_sets(cfg: GeneralConfig, fonts: Sequence[FontSpec]) -> dict[str, list[Any]]:
    """Fixed per-family sets (held-out families too) from a seed no training batch uses."""
    sets = {}
    for k, name in enumerate(FAMILIES):
        zoo_cfg = ZooConfig(**{**to_dict(cfg.zoo), "families": (name,),
                               "seed": cfg.seed + VAL_SEED_OFFSET + k})  # fmt: skip
        zoo = Zoo(zoo_cfg, fonts)
        sets[name] = [zoo.sample(i) for i in range(cfg.val_per_family)]
    return sets


@torch.no_grad()
def ctc_paths(
    model: nn.Module, lines: np.ndarray, device: torch.device
) -> list[list[tuple[int, float]]]:
    """Greedy CTC (token id, probability) of each character of (N, H, W, 1) uint8 lines, each
    read at its bucket's width as every reader reads it (`ocrlab.runtime.line.width_buckets`)."""

    def read(cut: np.ndarray) -> list[list[tuple[int, float]]]:
        x = torch.from_numpy(cut).permute(0, 3, 1, 2).to(device)
        return ctc_greedy(model(line_input(x)).float().softmax(-1).cpu().numpy())

    return read_in_buckets(lines, read)


def ctc_tokens(model: nn.Module, lines: np.ndarray, device: torch.device) -> list[list[int]]:
    """Greedy CTC token ids of (N, H, W, 1) uint8 lines (`ctc_paths` without probabilities)."""
    return [[t for t, _ in path] for path in ctc_paths(model, lines, device)]


def accuracy(
    model: nn.Module, tokenizer: Tokenizer, samples: Sequence[Any], device: torch.device
) -> float:
    """Exact match (case-sensitive) of greedy CTC reading."""
    model.eval()
    lines = np.stack([to_line(s.image) for s in samples])[..., None]  # (N, H, W, 1)
    texts = [tokenizer.decode(ids) for ids in ctc_tokens(model, lines, device)]
    model.train()
    return sum(t == s.text for t, s in zip(texts, samples, strict=True)) / max(len(samples), 1)


def _lr(cfg: GeneralConfig, step: int, seconds: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to 2 % of the peak, over the steps or, with a time
    budget, over whichever runs out first (then the run depends on the machine's speed)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    if cfg.minutes > 0:
        t = max(t, seconds / (cfg.minutes * 60))
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


@dataclass
class _Member:
    """One architecture under training."""

    arch: str
    run: Path
    model: nn.Module
    opt: torch.optim.Optimizer
    meta: Checkpoint
    loss: float = 0.0


def _meta(
    arch: str, model_config: dict[str, Any], tokenizer: Tokenizer, cfg: GeneralConfig
) -> Checkpoint:
    return Checkpoint(
        kind="line",
        model="crnn",
        model_config=model_config,
        input_size=(HEIGHT, WIDTH),
        channels=1,
        charset=tokenizer.charset.chars,
        max_len=tokenizer.max_len,
        config=to_dict(cfg),
        title=f"general reader, CRNN {arch}, zoo {', '.join(sorted(set(cfg.zoo.families)))}",
    )


def train_general(
    cfg: GeneralConfig,
    out: Path,
    *,
    resume: bool = False,
    log: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Train every architecture of `cfg` on one zoo stream into `out/<arch>/`; returns the last
    validation accuracies per architecture and family."""
    fonts = zoo_fonts(cfg.zoo, cfg.fonts)
    tokenizer = Tokenizer(Charset(cfg.zoo.charset), cfg.zoo.max_length)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    members, start = _start(cfg, out, tokenizer, device, resume)
    description = {"config": to_dict(cfg), "fonts": [f.name for f in fonts]}
    (out / "run.json").write_text(json.dumps(description, indent=1) + "\n")
    zoo = Zoo(cfg.zoo, fonts)
    val = validation_sets(cfg, fonts)
    batches = ZooBatches(zoo, tokenizer, cfg.batch_size, cfg.steps)
    loader = DataLoader(
        torch.utils.data.Subset(batches, range(start, cfg.steps)),
        batch_size=None,
        num_workers=cfg.workers,
        prefetch_factor=4 if cfg.workers else None,
        persistent_workers=False,
        pin_memory=device.type == "cuda",
    )
    bf16 = use_bf16(device, cfg.cpu_amp, cuda=False)
    began, seen, results = time.perf_counter(), 0, {}
    for step, (x, targets, lengths) in enumerate(loader, start):
        seconds = time.perf_counter() - began
        _step(members, line_input(x.to(device, non_blocking=True)), targets.to(device), lengths,
              _lr(cfg, step, seconds), bf16)  # fmt: skip
        seen, done = seen + len(x), step + 1
        over_time = cfg.minutes > 0 and seconds > cfg.minutes * 60
        if done % cfg.eval_every == 0 or done == cfg.steps or over_time:
            results = _evaluate(members, tokenizer, val, device)
            seconds = time.perf_counter() - began
            record = {
                "step": done,
                "images": done * cfg.batch_size,
                "seconds": round(seconds, 1),
                "images_per_s": round(seen / seconds, 1),
                "lr": _lr(cfg, step, seconds),
                "loss": {m.arch: m.loss for m in members},
                "val": results,
            }
            for m in members:
                _save(m, done, results[m.arch])
            with (out / LOG).open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            if log is not None:
                log(record)
        if over_time:
            break
    return results


def _step(
    members: list[_Member],
    x: torch.Tensor,
    targets: torch.Tensor,
    lengths: torch.Tensor,
    lr: float,
    bf16: bool,
) -> None:
    """One optimizer step of every architecture on the same batch: CTC loss (in float32),
    blank = `<pad>`."""
    for m in members:
        for group in m.opt.param_groups:
            group["lr"] = lr
        with torch.autocast(x.device.type, torch.bfloat16, enabled=bf16):
            logits = m.model(x)
        loss = ctc_loss(logits, targets, lengths)
        m.opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(m.model.parameters(), 5.0)
        m.opt.step()
        m.loss = loss.item()


def _start(
    cfg: GeneralConfig, out: Path, tokenizer: Tokenizer, device: torch.device, resume: bool
) -> tuple[list[_Member], int]:
    members, steps = [], []
    if out.exists() and any(out.iterdir()) and not resume:
        raise DatasetError(f"{out} is not empty; pass --resume to continue it")
    for arch in cfg.archs:
        model_config = {"vocab_size": tokenizer.charset.size, **ARCHS[arch]}
        model = build("crnn", **model_config).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        run = out / arch
        run.mkdir(parents=True, exist_ok=True)
        step = 0
        if cfg.init is not None and not resume:
            start = Path(cfg.init) / arch if (Path(cfg.init) / arch).is_dir() else Path(cfg.init)
            checkpoint.load_weights(start / checkpoint.WEIGHTS, model)
        if resume:
            if not (run / checkpoint.STATE).is_file():
                raise DatasetError(f"cannot resume {run}: no checkpoint was saved")
            began = _identity(checkpoint.load_checkpoint(run).config)
            if began != (now := _identity(to_dict(cfg))):
                keys = sorted(k for k in began.keys() | now.keys() if began.get(k) != now.get(k))
                changed = ", ".join(f"{k}={began.get(k)!r}" for k in keys)
                raise DatasetError(
                    f"cannot resume {run}: it was started with another configuration ({changed})"
                )
            state = checkpoint.load_state(run)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            step = int(state["step"])
        steps.append(step)
        members.append(
            _Member(arch, run, model.train(), opt, _meta(arch, model_config, tokenizer, cfg))
        )
    if len(set(steps)) > 1:
        raise DatasetError(f"cannot resume {out}: its models stopped at different steps {steps}")
    return members, steps[0]


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    """What decides a run's weights (as JSON has it, options added since at their defaults, which
    keep the stream as it was): not the worker count or the device."""
    full = to_dict(from_dict(GeneralConfig, config))
    return {k: v for k, v in full.items() if k not in ("workers", "device")}


def _evaluate(
    members: list[_Member], tokenizer: Tokenizer, val: dict[str, list[Any]], device: torch.device
) -> dict[str, dict[str, float]]:
    return {
        m.arch: {
            name: round(accuracy(m.model, tokenizer, samples, device), 4)
            for name, samples in val.items()
        }
        for m in members
    }


def _save(m: _Member, step: int, val: dict[str, float]) -> None:
    """The resume state (weights, optimizer, step: one atomic file, so a kill never leaves parts
    of two steps), then the weights to use and the checkpoint, each written atomically."""
    state = {"model": m.model.state_dict(), "optimizer": m.opt.state_dict(), "step": step}
    checkpoint.save_state(m.run, state)
    checkpoint.save_weights(m.run / checkpoint.WEIGHTS, m.model)
    metrics = {"step": step, "loss": m.loss, "val": val}
    checkpoint.save_checkpoint(m.run, dataclasses.replace(m.meta, metrics=metrics))
