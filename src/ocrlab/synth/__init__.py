"""Synthetic text-image data: vocabulary → fonts → backgrounds → render → dataset on disk.

NumPy and Pillow only: never torch, FastAPI or the CLI. The entry point is `generate(config, out)`.
"""

from __future__ import annotations

from ocrlab.synth.generate import generate
from ocrlab.synth.plan import PRESETS, GenerateConfig

__all__ = ["PRESETS", "GenerateConfig", "generate"]
