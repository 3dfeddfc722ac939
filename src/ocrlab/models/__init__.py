"""Torch models as plain `nn.Module`s, registered by name; no training loops live here."""

from __future__ import annotations

from ocrlab.models.registry import build, register, registered

__all__ = ["build", "register", "registered"]
