"""What a reader returns: `Reading`; and what it reads: `ImageLike` (defined with the decoder in
`ocrlab.data.images`). No torch, so the NumPy letter reader (the from-scratch MLP) and its callers
never import it. Imports the standard library, NumPy and `ocrlab.data.images` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocrlab.data.images import ImageLike

__all__ = ["ImageLike", "Reading"]


@dataclass(frozen=True)
class Reading:
    """What the model read: text, confidence in [0, 1], per-character and top-k alternatives;
    the letter reader adds `letters`, each letter's own top-k."""

    text: str
    confidence: float
    chars: list[tuple[str, float]] = field(default_factory=list)
    topk: list[tuple[str, float]] = field(default_factory=list)
    letters: list[list[tuple[str, float]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 6),
            "chars": [{"char": c, "p": round(p, 6)} for c, p in self.chars],
            "topk": [{"text": t, "p": round(p, 6)} for t, p in self.topk],
            "letters": [[{"char": c, "p": round(p, 6)} for c, p in top] for top in self.letters],
        }
