"""Shared fixtures: small datasets synthesised with ocrlab itself (no network, no golden files)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ocrlab.synth import PRESETS, GenerateConfig

# Fuzz tests: a modest number of examples, the same ones every run (derandomize: a failure
# reproduces), no example database in the checkout, no per-example deadline on a busy machine.
# OCRLAB_HYPOTHESIS=thorough searches twenty times wider.
_FUZZ = {"deadline": None, "derandomize": True, "database": None}
settings.register_profile(
    "ocrlab", max_examples=25, suppress_health_check=[HealthCheck.too_slow], **_FUZZ
)
settings.register_profile("thorough", max_examples=500, **_FUZZ)
settings.load_profile(os.environ.get("OCRLAB_HYPOTHESIS", "ocrlab"))


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


@pytest.fixture(autouse=True, scope="session")
def _font_metrics_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the generator's font-metrics cache out of the user's ~/.cache during tests."""
    os.environ["OCRLAB_CACHE"] = str(tmp_path_factory.mktemp("ocrlab-cache"))


@pytest.fixture
def tiny_line_run() -> object:
    """Make a tiny untrained CRNN line model (charset given) as a run folder: a real model that
    every line-model path loads, small enough to train in a test."""

    def make(folder: Path, charset: str = "abc") -> Path:
        import torch

        from ocrlab.charset import SPECIALS
        from ocrlab.models import build
        from ocrlab.runtime import checkpoint

        torch.manual_seed(0)
        model = build(
            "crnn", vocab_size=len(SPECIALS) + len(charset), channels=[4, 8, 8, 8], hidden=8
        )
        folder.mkdir(parents=True)
        checkpoint.save_weights(folder / checkpoint.WEIGHTS, model)
        ckpt = checkpoint.Checkpoint(
            kind="line",
            model="crnn",
            model_config=model.config,
            input_size=(32, 256),
            channels=1,
            charset=charset,
            max_len=8,
        )
        checkpoint.save_checkpoint(folder, ckpt)
        return folder

    return make
