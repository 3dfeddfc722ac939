"""Shared fixtures: small datasets synthesised with ocrlab itself (no network, no golden files)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ocrlab.synth import PRESETS, GenerateConfig


@pytest.fixture
def small_hard() -> GenerateConfig:
    """A hard-set config small enough to render in well under a second."""
    return dataclasses.replace(PRESETS["hard"], words=12, limit=120, shard_size=50)


@pytest.fixture
def tree_bytes() -> object:
    """Map every file under a folder (relative path) to its bytes."""

    def read(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }

    return read
