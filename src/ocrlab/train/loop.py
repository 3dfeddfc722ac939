"""The training engine: plain functions over a model, batches and a task's loss.

`fit` runs epochs of `train_one_epoch` and `evaluate`, writes `history.csv` and a resumable state
after every epoch, and at the end the chosen weights, `checkpoint.json`, `metrics.json` and the
loss/accuracy curves. On CUDA it trains in bf16 autocast with channels-last tensors; on the CPU in
float32 unless `cpu_amp` asks for bf16. A task (classifier, sequence model) only supplies
`loss(model, x, y)`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import torch
from torch import nn

from ocrlab.config import to_dict
from ocrlab.data.atomic import atomic_write_bytes
from ocrlab.errors import ConfigError
from ocrlab.runtime import checkpoint
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.train import dist
from ocrlab.train.batches import DeviceBatches

Event = dict[str, Any]
Callback = Callable[[Event], None]


CpuAmp = Literal["off", "on", "auto"]
"""bf16 autocast on the CPU: never, always, or where the CPU computes bf16 natively."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train; the model and the data are chosen elsewhere."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    optimizer: Literal["adamw", "sgd"] = "adamw"
    schedule: Literal["onecycle", "cosine", "constant"] = "onecycle"
    label_smoothing: float = 0.0
    augment: bool = True
    patience: int = 0
    """Stop after this many epochs without a lower test loss, keep the best weights (0: never)."""
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    """bf16 autocast on CUDA."""
    cpu_amp: CpuAmp = "off"
    """bf16 autocast on the CPU: about 1.6× faster where the CPU computes in bf16 (AVX512-BF16,
    AMX), slower where it is emulated; auto: on where it is native."""

    def autocast(self, device: torch.device) -> bool:
        """Whether to train and evaluate in bf16 autocast on `device`."""
        return use_bf16(device, self.cpu_amp, cuda=self.amp)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.patience < 0:
            raise ConfigError("epochs and batch_size must be ≥ 1, lr > 0 and patience ≥ 0")
        check_cpu_amp(self.cpu_amp)


def use_bf16(device: torch.device, cpu_amp: CpuAmp, cuda: bool = True) -> bool:
    """Whether to compute in bf16 autocast on `device`: on CUDA when `cuda`, on the CPU as
    `cpu_amp` says (auto: where the CPU computes bf16 natively)."""
    if device.type == "cuda":
        return cuda
    return cpu_amp == "on" or (cpu_amp == "auto" and native_cpu_bf16())


def check_cpu_amp(value: str) -> None:
    if value not in ("off", "on", "auto"):
        raise ConfigError(f"cpu_amp must be off, on or auto, got {value!r}")


def native_cpu_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX), where autocast pays."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


class Task(Protocol):
    def loss(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, int, int]:
        """(mean loss, number correct, number counted) for one batch."""
        ...


class ClassifierTask:
    """Cross-entropy over class logits; correct = argmax equals the label."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def loss(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, int, int]:
        logits = model(x)  # (B, K)
        return self.criterion(logits.float(), y), int((logits.argmax(1) == y).sum()), len(y)


def _autocast(device: torch.device, amp: bool) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)


def train_one_epoch(
    model: nn.Module,
    batches: DeviceBatches,
    task: Task,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    amp: bool = False,
    callback: Callback | None = None,
) -> dict[str, float]:
    """One pass over `batches`; returns mean loss and accuracy."""
    model.train()
    total = correct = count = 0.0
    for x, y in batches:
        with _autocast(batches.device, amp):
            loss, right, n = task.loss(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += float(loss.detach()) * n
        correct, count = correct + right, count + n
        if callback is not None:
            callback({"event": "batch", "loss": float(loss.detach())})
    total, correct, count = dist.all_sum([total, correct, count], batches.device)
    return {"loss": total / max(count, 1), "acc": correct / max(count, 1)}


@torch.no_grad()
def evaluate(
    model: nn.Module, batches: DeviceBatches, task: Task, amp: bool = False
) -> dict[str, float]:
    """Mean loss and accuracy over `batches`, in eval mode."""
    model.eval()
    total = correct = count = 0.0
    for x, y in batches:
        with _autocast(batches.device, amp):
            loss, right, n = task.loss(model, x, y)
        total, correct, count = total + float(loss) * n, correct + right, count + n
    total, correct, count = dist.all_sum([total, correct, count], batches.device)
    return {"loss": total / max(count, 1), "acc": correct / max(count, 1)}


def _optimizer(
    model: nn.Module, cfg: TrainConfig, steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]  # biases and norms (Loshchilov 2019)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    opt: torch.optim.Optimizer
    if cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(groups, lr=cfg.lr)
    else:
        opt = torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True)
    if cfg.schedule == "onecycle":
        return opt, torch.optim.lr_scheduler.OneCycleLR(
            opt, cfg.lr, total_steps=steps, pct_start=0.2
        )
    if cfg.schedule == "cosine":
        return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    return opt, None


HISTORY_FIELDS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds")


def write_history(run: Path, history: list[dict[str, float]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row[k] for k in HISTORY_FIELDS} for row in history)
    atomic_write_bytes(run / "history.csv", buf.getvalue().encode())


@dataclass
class Run:
    """A training run's folder, its model, and what `checkpoint.json` must record about it."""

    folder: Path
    model: nn.Module
    checkpoint: Checkpoint


def fit(
    run: Run,
    train: DeviceBatches,
    test: DeviceBatches,
    task: Task,
    cfg: TrainConfig,
    resume: bool = False,
    callback: Callback | None = None,
) -> list[dict[str, float]]:
    """Train `run.model` for `cfg.epochs`; returns the history (one dict per epoch).

    Under torchrun every rank calls it with the same arguments (`ocrlab.train.dist`): the ranks
    share each global batch, and rank 0 alone writes the run folder and calls `callback`.
    """
    model, folder = run.model.to(train.device), run.folder
    if train.channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    group = dist.group() if dist.active() else dist.Group()
    dist.check_batch(cfg.batch_size)
    if group.is_main:
        folder.mkdir(parents=True, exist_ok=True)
    else:
        callback = None
    opt, sched = _optimizer(model, cfg, cfg.epochs * len(train))
    history: list[dict[str, float]] = []
    best = (math.inf, 0)
    state = dist.on_main(lambda: _read_resume(folder, model)) if resume else None
    if state is not None:
        if "model" in state:
            model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None:
            sched.load_state_dict(state["scheduler"])
        history, best = state["history"], (state["best_loss"], state["best_epoch"])
    train.rank = test.rank = group.rank
    train.world = test.world = group.world
    step_task = dist.distribute(model, task, train.device)  # DDP copies rank 0's weights
    for epoch in range(len(history) + 1, cfg.epochs + 1):
        train.epoch = test.epoch = epoch
        # dropout draws depend on the epoch (resumable) and the rank (no two ranks alike)
        torch.manual_seed(cfg.seed * 1000 + epoch + 1_000_003 * group.rank)
        start = time.perf_counter()
        amp = cfg.autocast(train.device)
        with dist.failing_clearly(epoch, folder):
            tr = train_one_epoch(model, train, step_task, opt, sched, amp, callback)
            te = evaluate(model, test, step_task, amp)
        row = {
            "epoch": epoch,
            "train_loss": tr["loss"],
            "train_acc": tr["acc"],
            "test_loss": te["loss"],
            "test_acc": te["acc"],
            "lr": opt.param_groups[0]["lr"],
            "seconds": time.perf_counter() - start,
        }
        history.append(row)
        improved = te["loss"] < best[0]
        best = (te["loss"], epoch) if improved else best
        if group.is_main:
            _save_epoch(folder, model, opt, sched, history, best, improved)
        if callback is not None:
            callback({"event": "epoch", **row})
        if cfg.patience and epoch - best[1] >= cfg.patience:
            break
    if group.is_main:
        if not cfg.patience:  # without early stopping the final weights are the result
            checkpoint.save_weights(folder / checkpoint.WEIGHTS, model)
        else:
            checkpoint.load_weights(folder / checkpoint.WEIGHTS, model)
        _finish(run, cfg, history, best[1])
    return history


def _read_resume(folder: Path, model: nn.Module) -> dict[str, Any] | None:
    """The state of the last finished epoch (rank 0 reads it, every rank gets it), or None when
    no epoch finished: start over."""
    if not (folder / checkpoint.STATE).is_file():
        return None
    state = checkpoint.load_state(folder)
    if "model" not in state:  # a state.pt written before it held the weights; DDP then hands
        checkpoint.load_weights(folder / checkpoint.LAST, model)  # rank 0's to the others
    return state


def _save_epoch(
    folder: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler | None,
    history: list[dict[str, float]],
    best: tuple[float, int],
    improved: bool,
) -> None:
    """The resumable state after an epoch; each file is replaced whole (atomic writes)."""
    if improved:
        checkpoint.save_weights(folder / checkpoint.WEIGHTS, model)
    checkpoint.save_weights(folder / checkpoint.LAST, model)
    checkpoint.save_state(  # one file holds all a resume needs: a kill -9 cannot tear it
        folder,
        {
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict() if sched else {},
            "history": history,
            "best_loss": best[0],
            "best_epoch": best[1],
        },
    )
    write_history(folder, history)


def _finish(run: Run, cfg: TrainConfig, history: list[dict[str, float]], best_epoch: int) -> None:
    from ocrlab.plots import plot_curves

    last = history[-1]
    metrics = {
        "epochs": len(history),
        "best_epoch": best_epoch,
        "train_acc": last["train_acc"],
        "test_acc": last["test_acc"],
        "train_loss": last["train_loss"],
        "test_loss": last["test_loss"],
        "seconds": sum(r["seconds"] for r in history),
    }
    if cfg.patience:
        chosen = history[best_epoch - 1]
        metrics.update(test_acc=chosen["test_acc"], test_loss=chosen["test_loss"])
    done = dataclasses.replace(run.checkpoint, train=to_dict(cfg), metrics=metrics)
    checkpoint.save_checkpoint(run.folder, done)
    import json

    atomic_write_bytes(run.folder / "metrics.json", (json.dumps(metrics, indent=1) + "\n").encode())
    plot_curves(history, run.folder / "curves.png", title=run.checkpoint.title)
