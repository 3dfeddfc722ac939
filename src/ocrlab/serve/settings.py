"""Server settings and the `NAME=MODEL` model list of `ocrlab serve`.

Owns the limits every request is held to (body size, pixel count, timeout, concurrency) as one
frozen dataclass, so the CLI, the tests and the benchmark configure the server the same way.
Imports the standard library, `ocrlab.errors` and `ocrlab.runtime.shipped` only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ocrlab.errors import ConfigError
from ocrlab.runtime.shipped import AUTO, SHIPPED

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class ServeSettings:
    """Where the server listens and what one request may cost."""

    host: str = "127.0.0.1"
    """Loopback by default: exposing the server is an explicit choice (`--host 0.0.0.0`)."""
    port: int = 8000
    device: str = "auto"
    """Where the models run: auto (CUDA when present), cpu or cuda."""
    max_bytes: int = 5 * 1024 * 1024
    """Largest request body (5 MiB); beyond it the answer is 413."""
    max_pixels: int = 16_000_000
    """Largest decoded image (16 MP, e.g. 4,000 × 4,000); beyond it the answer is 413."""
    timeout_s: float = 10.0
    """Whole-request budget: upload, queueing, decoding and reading; beyond it the answer is 504."""
    workers: int = 2
    """Reads running at once, each on a worker thread; further requests queue until timeout_s."""
    queue: int = 64
    """Requests that may wait for a worker; beyond them the answer is 503 with Retry-After."""
    max_top_k: int = 20
    gallery: Path | None = None
    """An ocrlab dataset whose samples `GET /v1/gallery` shows (None: no gallery)."""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "workers", "max_top_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.queue < 0:
            raise ConfigError(f"queue must be at least 0, got {self.queue}")
        if self.timeout_s <= 0:
            raise ConfigError(f"timeout_s must be positive, got {self.timeout_s}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")


def parse_models(specs: Sequence[str]) -> dict[str, str] | None:
    """`["words=runs/a", "captcha", "m.onnx"]` → `{"words": "runs/a", "captcha": "captcha",
    "m": "m.onnx"}`, in order; no specs → None (serve every shipped model).

    A value is anything `ocrlab.load` takes. A spec without `NAME=` is named after itself (a
    shipped name) or its file or folder. Names are letters, digits, `_`, `.` and `-`.
    """
    if not specs:
        return None
    models: dict[str, str] = {}
    for spec in specs:
        name, sep, target = spec.partition("=")
        target = target if sep else spec
        name = name if sep or spec in SHIPPED or spec == AUTO else Path(spec).resolve().stem
        if not _NAME.match(name):
            raise ConfigError(f"model name {name!r} must be letters, digits, '_', '.' or '-'")
        if name in models:
            raise ConfigError(f"model name {name!r} is given twice")
        models[name] = target
    return models
