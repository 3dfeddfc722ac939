"""Training on several processes: PyTorch DistributedDataParallel under `torchrun`.

`torchrun` starts one process per device and sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT; `joined` sees them and holds the group for a block (gloo on the CPU, NCCL on CUDA).
Without them every function here is a no-op, so one process trains exactly as before. The scaling
rule is "global batch fixed": `batch_size` is the batch of the whole group, each rank takes its
slice of every global batch (see `DeviceBatches.rank`), the learning rate stays as it is, and the
group computes the same steps as one process with the same seed. BatchNorm normalises over the
global batch (`sync_bn.GroupBatchNorm`) for the same reason. Only rank 0 writes files; `on_main`
runs a step there and hands its result, or its `UserError`, to every rank. Imports torch; nothing
in reading or serving imports it.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ocrlab.errors import ConfigError, UserError
from ocrlab.train.sync_bn import convert_batchnorm

T = TypeVar("T")


class GroupError(UserError):
    """Another process of the training group stopped, so this one cannot go on."""


@dataclass(frozen=True)
class Group:
    """This process's place in the group: rank (0 writes), world size, device index on its node."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def group() -> Group:
    """The group torchrun describes in the environment (one process of one without torchrun)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise ConfigError("RANK, WORLD_SIZE and LOCAL_RANK must be integers") from None
    if world < 1 or not 0 <= rank < world:
        raise ConfigError(f"RANK {rank} is not in a group of WORLD_SIZE {world}")
    return Group(rank, world, local)


def active() -> bool:
    """Whether this process trains in a group of more than one."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@contextmanager
def joined(device: torch.device) -> Iterator[torch.device]:
    """Join the torchrun group, if there is one, for the block; yields this rank's device.

    A block that ends well ends at a barrier before the group is torn down: a rank that tears down
    while its peer is still finishing the last collective makes gloo abort that peer at exit
    ("terminate called without an active exception", about one run in ten). A block that raises
    leaves at once, so peers waiting on this rank fail instead of waiting forever.
    """
    device = _setup(device)
    try:
        yield device
    except BaseException:
        _leave(together=False)
        raise
    _leave(together=True)


def _setup(device: torch.device) -> torch.device:
    """Join the group torchrun describes; returns this rank's device (cuda:LOCAL_RANK)."""
    g = group()
    if g.world == 1:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", g.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, rank=g.rank, world_size=g.world)
    return device


_broken = False
"""Set once a collective failed: a peer is gone."""


def _leave(together: bool) -> None:
    """Tear the group down (torch warns at exit when it never was); a group whose peer died is left
    alone, since gloo aborts the process when asked to tear it down."""
    if not dist.is_initialized() or _broken:
        return
    if together:
        dist.barrier()
    dist.destroy_process_group()


def leave(status: int) -> None:
    """Exit with `status` at once if a peer died: gloo aborts a process that tears down such a
    group, at exit too ("terminate called without an active exception", about one run in a
    hundred), so the process flushes its output and skips the teardown. Returns otherwise."""
    if _broken:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def on_main(step: Callable[[], T]) -> T:
    """Run `step` on rank 0 only and return its result on every rank; a `UserError` it raises is
    raised on every rank, so no rank waits forever for a rank that gave up. Any other failure
    keeps its traceback on rank 0 and reaches the other ranks as one `GroupError` naming it."""
    if not active():
        return step()
    box: list[Any] = [None]
    if dist.get_rank() == 0:
        try:
            box = [(step(), None)]
        except UserError as exc:
            box = [(None, exc)]
        except Exception as exc:
            said = GroupError(f"rank 0 stopped: {type(exc).__name__}: {exc} (its output has more)")
            dist.broadcast_object_list([(None, said)], src=0)
            raise
    dist.broadcast_object_list(box, src=0)
    result, error = box[0]
    if error is not None:
        raise error
    return result


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sums of `values` over the group (the values themselves in one process)."""
    if not active():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return [float(v) for v in t.tolist()]


def check_batch(batch_size: int) -> None:
    """Every rank needs images of every global batch."""
    world = group().world
    if batch_size < world:
        raise ConfigError(f"batch_size {batch_size} is smaller than the group of {world} ranks")


@contextmanager
def failing_clearly(epoch: int, folder: object) -> Iterator[None]:
    """Turn the error a collective raises when a peer died into one clear sentence."""
    try:
        yield
    except RuntimeError as exc:
        if not (active() and _from_collective(exc)):
            raise  # this rank's own failure: its traceback is the one to read
        global _broken
        _broken = True
        why = " ".join(str(exc).split())
        why = why[why.find("]") + 1 :].strip().split(". ")[0][:120]  # no gloo source location
        raise GroupError(
            f"another rank of the training group stopped during epoch {epoch} ({why}); "
            f"{folder} keeps the last finished epoch: rerun the same command with --resume"
        ) from None


def _from_collective(exc: RuntimeError) -> bool:
    """Whether `exc` came out of a collective (NCCL raises DistError; gloo a bare RuntimeError
    from inside torch.distributed or DDP)."""
    if isinstance(exc, dist.DistError):
        return True
    tb, where = exc.__traceback__, ""
    while tb is not None:
        where, tb = tb.tb_frame.f_code.co_filename.replace("\\", "/"), tb.tb_next
    return "torch/distributed/" in where or "torch/nn/parallel/" in where


class _Step(nn.Module):
    """The task's loss as one forward, so DDP sees the whole step (the sequence task calls the
    encoder and decoder itself, never `model.forward`)."""

    def __init__(self, model: nn.Module, task: Any) -> None:
        super().__init__()
        self.model, self.task = model, task

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        return self.task.loss(self.model, x, y)


class GroupTask:
    """A task that trains through DDP and weights each rank by its share of the global batch.

    DDP averages gradients over ranks; scaling rank r's gradient by n_r · world / n makes that
    average the gradient of the mean over the whole global batch even when the last batch does
    not split evenly. Evaluation calls the plain model: no collectives, BatchNorm's running
    statistics are the same on every rank, and the counts are summed afterwards.
    """

    def __init__(self, model: nn.Module, task: Any, device: torch.device) -> None:
        self.task, self.world = task, dist.get_world_size()
        ids = [device.index] if device.type == "cuda" else None
        # static_graph: the sequence task leaves its CTC head unused when ctc_weight is 0;
        # gradients as views of DDP's buckets: no copy, and no stride warning for 1x1 convs.
        self.ddp = DistributedDataParallel(
            _Step(model, task), device_ids=ids, static_graph=True, gradient_as_bucket_view=True
        )
        self.device = device
        # The CPU's 1x1 convolutions return weight gradients whose size-1 dimensions carry other
        # strides than the weights: the same memory layout, which DDP copies and warns about.
        warnings.filterwarnings("ignore", "Grad strides do not match bucket view strides")

    def loss(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, int, int]:
        if not model.training:
            return self.task.loss(model, x, y)
        loss, right, n = self.ddp(x, y)
        total = all_sum([float(n)], self.device)[0]
        share = n * self.world / total
        loss.register_hook(lambda grad: grad * share)
        return loss, right, n


def distribute(model: nn.Module, task: T, device: torch.device) -> T | GroupTask:
    """`task` itself in one process; in a group, BatchNorm over the global batch and DDP."""
    if not active():
        return task
    convert_batchnorm(model)
    return GroupTask(model, task, device)
