"""BatchNorm over the global batch of a training group, on the CPU as well as on CUDA.

Each rank sees a slice of the global batch; per-rank statistics would make a group train a
different model from one process with the same batch. torch's `SyncBatchNorm` fixes that on GPUs
only (it refuses CPU tensors), so a gloo group on CPUs needs its own: `GroupBatchNorm` sums the
per-channel sums and sums of squares over the group in one all-reduce whose backward all-reduces
the gradient (one collective each way per layer and step). In evaluation it is plain BatchNorm
with running statistics, and its state dict is BatchNorm's, so checkpoints load into the usual
model. Imports torch only.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn


class _AllReduceSum(torch.autograd.Function):
    """Sum over the group; the gradient of a sum that every rank uses is the summed gradient."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        out = grad.clone()
        dist.all_reduce(out)
        return out


def group_sum(x: torch.Tensor) -> torch.Tensor:
    """`x` summed over every rank of the group, differentiably."""
    return _AllReduceSum.apply(x)  # type: ignore[no-untyped-call]


class GroupBatchNorm(nn.BatchNorm2d):
    """`nn.BatchNorm2d` whose training statistics cover the whole group's batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x (B, C, H, W)
        if not self.training:
            return super().forward(x)
        c, xf = x.shape[1], x.float()  # statistics in float32, also under bf16 autocast
        # One all-reduce of the sums of (x - K) and (x - K)² and the count. The shift K, the
        # running mean (the same on every rank), keeps the variance as exact as two passes.
        k = self.running_mean
        shift = xf.new_zeros(c) if k is None else k.detach().float().clone()  # updated in place
        d = xf - shift[None, :, None, None]
        n = torch.full((1,), x.numel() / c, device=x.device)
        sums = group_sum(torch.cat([d.sum((0, 2, 3)), d.square().sum((0, 2, 3)), n]))
        count = sums[-1]
        moved = sums[:c] / count  # (C,) mean - K
        var = (sums[c : 2 * c] / count - moved.square()).clamp_min(0)  # (C,) biased, as BatchNorm
        mean = shift + moved
        centred = xf - mean[None, :, None, None]
        y = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        if self.track_running_stats:
            self._track(mean.detach(), var.detach(), float(count.detach()))
        return y.to(x.dtype)

    @torch.no_grad()
    def _track(self, mean: torch.Tensor, var: torch.Tensor, count: float) -> None:
        assert self.running_mean is not None and self.running_var is not None
        assert self.num_batches_tracked is not None
        self.num_batches_tracked += 1
        m = self.momentum if self.momentum is not None else 1.0 / int(self.num_batches_tracked)
        unbiased = var * count / max(count - 1, 1)  # running_var is unbiased, as in BatchNorm
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), m)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), m)


def convert_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every `nn.BatchNorm2d` in `model`, in place, by a `GroupBatchNorm` holding the very
    same parameter and buffer tensors (an optimizer made before still updates them); returns
    `model`."""
    for name, child in model.named_children():
        if type(child) is nn.BatchNorm2d:
            new = GroupBatchNorm(
                child.num_features, child.eps, child.momentum, child.affine,
                child.track_running_stats, device="meta",
            )  # fmt: skip
            new._parameters, new._buffers = child._parameters, child._buffers
            new.train(child.training)
            setattr(model, name, new)
        else:
            convert_batchnorm(child)
    return model
