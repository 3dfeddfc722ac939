"""Pick the torch device: `auto` means CUDA when present, else CPU."""

from __future__ import annotations

import os

import torch

from ocrlab.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """`auto`, `cpu`, `cuda` or `cuda:N`; asking for CUDA without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but no CUDA GPU is available")
    return device


def share_cores(readers: int) -> None:
    """Give each of `readers` concurrent reads an equal share of the cores as torch threads, unless
    OMP_NUM_THREADS says otherwise: more threads than cores make the reads wait on each other (the
    server's soak on 2 cores: 2 reads × 2 threads gave 17 reads/s and a rising p99; one thread
    each, 29 reads/s and a flat p99)."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(readers, 1)))
