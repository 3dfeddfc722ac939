"""Greedy CTC decoding, shared by the torch and the onnxruntime readers (NumPy only).

The best class per column, repeats merged, blanks dropped (Graves et al. 2006). A character's
probability is the best one among the columns that emitted it, so a confident character spread
over several columns is not penalised for its width.
"""

from __future__ import annotations

import numpy as np

BLANK = 0
"""The CTC blank is `<pad>` (token 0), so a CTC model shares the tokenizer of the others."""


def ctc_greedy(probs: np.ndarray) -> list[list[tuple[int, float]]]:
    """(B, T, V) per-column probabilities → per line, (token, probability) of each character."""
    best = probs.argmax(-1)  # (B, T)
    best_p = np.take_along_axis(probs, best[..., None], -1)[..., 0]
    out = []
    for row, row_p in zip(best.tolist(), best_p.tolist(), strict=True):
        chars: list[tuple[int, float]] = []
        prev = BLANK
        for tok, p in zip(row, row_p, strict=True):
            if tok != BLANK and tok == prev:
                chars[-1] = (tok, max(chars[-1][1], p))
            elif tok != BLANK:
                chars.append((tok, p))
            prev = tok
        out.append(chars)
    return out
