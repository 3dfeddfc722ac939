"""Feed a model from uint8 arrays: index on the host, convert and augment on the device.

PNG decoding gives about 3,000 images per core per second; a GPU trains ResNet18 ten times faster.
So training never decodes: the dataset is one uint8 array in memory, a batch is a slice of it moved
to the device as uint8 (a quarter of float32's bytes), and scaling, resizing and augmentation run
there. Shuffling uses a torch Generator seeded by (seed, epoch): the same seed, the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


def to_input(
    batch: torch.Tensor, size: tuple[int, int] | None, channels_last: bool = False
) -> torch.Tensor:
    """(B, H, W, C) uint8 → (B, C, h, w) float32 in [-1, 1], resized to `size` when given."""
    x = batch.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)  # (B, C, H, W)
    if size is not None and tuple(x.shape[-2:]) != size:
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def augment(x: torch.Tensor, gen: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Small random affine warps (±4 % shift, ±8 % scale, ±3° turn, ±0.1 shear) on the device."""
    return warp(x, affine_maps(x.shape[0], gen, strength))


def affine_maps(b: int, gen: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """`augment`'s random maps for a batch of `b` images: (b, 2, 3) on the generator's device."""

    def u(scale: float) -> torch.Tensor:
        return (torch.rand(b, generator=gen, device=gen.device) * 2 - 1) * scale * strength

    angle, shear = u(np.pi / 60), u(0.1)
    scale = 1 + u(0.08)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    return torch.stack(
        [
            torch.stack([cos, -sin + shear, u(0.04) * 2], 1),
            torch.stack([sin, cos, u(0.04) * 2], 1),
        ],
        1,
    )  # (b, 2, 3)


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample (B, C, H, W) images through (B, 2, 3) affine maps."""
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


@dataclass
class DeviceBatches:
    """Iterate `(x, y)` batches: x (B, C, h, w) float on `device`, y (B,) int64 labels.

    `rows` picks the samples this iterator covers (sorted indices into `images` and `labels`), so
    a train and a test side share one array instead of each holding a copy of its part. In a
    training group (`ocrlab.train.dist`) every rank draws the same global batches and keeps its
    own contiguous slice `rank` of `world` of each; the augmentation is drawn for the global
    batch, so the group sees the images one process would. Shuffled (training) batches smaller
    than the group are skipped, since every rank must take part in each step.
    """

    images: np.ndarray
    labels: np.ndarray
    batch_size: int
    device: torch.device
    size: tuple[int, int] | None = None
    shuffle: bool = False
    seed: int = 0
    augment: bool = False
    channels_last: bool = False
    epoch: int = 0
    rows: np.ndarray | None = None
    rank: int = 0
    world: int = 1

    def __len__(self) -> int:
        return -(-self.count // self.batch_size)

    @property
    def count(self) -> int:
        """Samples per epoch."""
        return len(self.labels) if self.rows is None else len(self.rows)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = self.count
        order = np.arange(n)
        if self.shuffle:
            gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = torch.randperm(n, generator=gen).numpy()
        aug_gen = torch.Generator(device=self.device).manual_seed(self.seed * 7919 + self.epoch)
        pin = self.device.type == "cuda"
        for start in range(0, n, self.batch_size):
            idx = np.sort(order[start : start + self.batch_size])  # sorted: sequential memory reads
            theta = affine_maps(len(idx), aug_gen) if self.augment else None
            mine = np.array_split(np.arange(len(idx)), self.world)[self.rank]
            if len(mine) == 0 or (self.shuffle and len(idx) < self.world):
                continue
            idx = idx[mine]
            if self.rows is not None:
                idx = self.rows[idx]
            raw = torch.from_numpy(self.images[idx])
            y = torch.from_numpy(np.asarray(self.labels[idx], dtype=np.int64))
            if pin:
                raw, y = raw.pin_memory(), y.pin_memory()
            x = to_input(raw.to(self.device, non_blocking=True), self.size, self.channels_last)
            if theta is not None:
                x = warp(x, theta[mine[0] : mine[-1] + 1])
            yield x, y.to(self.device, non_blocking=True)


def train_test_batches(
    images: np.ndarray,
    targets: np.ndarray,
    split: tuple[np.ndarray, np.ndarray],
    device: torch.device,
    batch_size: int,
    seed: int,
    augment: bool,
) -> tuple[DeviceBatches, DeviceBatches]:
    """Shuffled (and, if asked, augmented) training batches and plain test batches of one set,
    both reading the one `images` array (no copy of either part)."""
    cuda = device.type == "cuda"
    train_idx, test_idx = (np.sort(np.asarray(part, dtype=np.int64)) for part in split)
    train = DeviceBatches(
        images, targets, batch_size, device, shuffle=True, seed=seed, augment=augment,
        channels_last=cuda, rows=train_idx,
    )  # fmt: skip
    test = DeviceBatches(
        images, targets, batch_size, device, seed=seed, channels_last=cuda, rows=test_idx
    )
    return train, test


class ArrayDataset(Dataset[tuple[torch.Tensor, int]]):
    """A map-style Dataset over a uint8 array, for users who want a plain DataLoader."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        """Image i as a (C, H, W) uint8 tensor and its label."""
        return torch.from_numpy(np.ascontiguousarray(self.images[i])).permute(2, 0, 1), int(
            self.labels[i]
        )


def make_loader(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int,
    workers: int = 0,
) -> DataLoader[tuple[torch.Tensor, int]]:
    """A seeded DataLoader; its order depends on `seed` only, never on `workers`."""
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(
        ArrayDataset(images, labels),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=gen,
        num_workers=workers,
    )
