"""Seeded random streams that do not depend on how work is split.

Sample *i* of a dataset draws from `make_rng(seed, stream, i)`, a generator derived with NumPy's
SeedSequence from the seed and the sample's coordinates alone. Whichever worker renders sample *i*,
and in whatever order, it sees the same numbers, so the output is byte-identical for any worker
count. Imports NumPy only.
"""

from __future__ import annotations

import numpy as np

SAMPLES = 0
"""Stream for per-sample draws (font, capitalisation, placement, noise)."""
TEXTURES = 1
"""Stream for background textures, one per background."""
SPLITS = 2
"""Stream for dataset splits and shuffles."""
VOCAB = 3
"""Stream for sampling words from a large word list."""
PREVIEW = 4
"""Stream for picking the samples shown in a contact sheet."""


def make_rng(seed: int, *key: int) -> np.random.Generator:
    """Return an independent generator for `(seed, *key)`, e.g. `make_rng(seed, SAMPLES, i)`."""
    if seed < 0 or any(k < 0 for k in key):
        raise ValueError(f"seed and keys must be non-negative, got seed={seed}, key={key}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


ZOO = 5
"""Stream for the CAPTCHA zoo's samples (text, font, family, every effect)."""
TEXT_EVAL = 6
"""Stream for the clean-text evaluation set in the reserved fonts."""
AUDIT = 7
"""Stream for the samples `ocrlab audit --generator` draws."""
