"""CTC decoding, shared by the torch and the onnxruntime readers (NumPy only).

Greedy: the best class per column, repeats merged, blanks dropped (Graves et al. 2006);
alternatives by prefix beam search (`ctc_beam`). A
character's probability is the best one among the columns that emitted it, so a confident
character spread over several columns is not penalised for its width. Told what the text may be
(some characters only, so many of them), the reader takes the best path that obeys
(`ctc_constrained`).
"""

from __future__ import annotations

import numpy as np

BLANK = 0
"""The CTC blank is `<pad>` (token 0), so a CTC model shares the tokenizer of the others."""


def ctc_greedy(probs: np.ndarray) -> list[list[tuple[int, float]]]:
    """(B, T, V) per-column probabilities → per line, (token, probability) of each character."""
    return [_spell(path, p) for path, p in zip(probs.argmax(-1), probs, strict=True)]


def first_spelt(probs: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """(B, T, V) per-column probabilities → the column where each line's greedy path (among the
    `allowed` tokens, if given) spells its first character (-1 for a line it reads as nothing)."""
    if allowed is not None:
        probs = probs[:, :, np.union1d(allowed, [BLANK])]  # the blank stays token 0
    spells = probs.argmax(-1) != BLANK
    return np.where(spells.any(1), spells.argmax(1), -1)


def ctc_constrained(
    probs: np.ndarray, allowed: np.ndarray, lengths: tuple[int, int] | None = None
) -> list[list[tuple[int, float]]]:
    """`ctc_greedy` over the paths that spell only `allowed` tokens (the blank is always allowed)
    and, with `lengths` (fewest, most), only so many characters.

    Without `lengths` that is the greedy path among the allowed tokens. With them it is the
    Viterbi path of the CTC trellis whose states are the characters spelt so far and the last
    column's token: each column keeps the state (a blank after a blank, the same character
    again) or spells one more character. A CAPTCHA with a stroke across its start reads
    `r22d5n` greedily; told it has 5 characters, the stroke's column loses to the real five. A
    line too short for `fewest` characters reads as nothing.
    """
    allowed = np.unique(np.asarray(allowed, np.int64))
    allowed = allowed[allowed != BLANK]
    if not len(allowed):
        raise ValueError("ctc_constrained needs at least one allowed character")
    if lengths is None:
        masked = np.zeros_like(probs)
        masked[..., BLANK], masked[..., allowed] = probs[..., BLANK], probs[..., allowed]
        return [_spell(path, p) for path, p in zip(masked.argmax(-1), probs, strict=True)]
    return [_spell(_viterbi(np.log(np.maximum(p, 1e-30)), allowed, lengths), p) for p in probs]


def _viterbi(logp: np.ndarray, tokens: np.ndarray, lengths: tuple[int, int]) -> np.ndarray:
    """The best column path of (T, V) log-probabilities that spells `lengths` characters of
    `tokens`: a dynamic programme over n = characters so far (0..most) and the last token. All
    blank when no path can (more characters than the line has columns for)."""
    fewest, most = lengths
    columns, k = len(logp), len(tokens)
    blank = np.full(most + 1, -np.inf)  # blank[n]: best path ending in a blank
    blank[0] = 0.0
    char = np.full((most + 1, k), -np.inf)  # char[n, j]: best path ending in tokens[j]
    back_blank = np.zeros((columns, most + 1), np.int64)  # -1: came from a blank, else j
    back_char = np.zeros((columns, most + 1, k), np.int64)  # -2: same j, -1: a blank, else i
    for t in range(columns):
        best = char.max(-1)
        back_blank[t] = np.where(blank >= best, -1, char.argmax(-1))
        new_blank = np.maximum(blank, best) + logp[t, BLANK]
        # Character j after character i != j: the best i, or the second best when that is j.
        top = np.argsort(-char, axis=-1)[:, :2] if k > 1 else np.zeros((most + 1, 2), np.int64)
        first, second = top[:, :1], top[:, 1:]
        first_v, second_v = (np.take_along_axis(char, i, -1) for i in (first, second))
        is_first = first == np.arange(k)
        other = np.where(is_first, second_v if k > 1 else -np.inf, first_v)[:-1]
        other_i = np.where(is_first, second, first)[:-1]
        after_blank = blank[:-1, None] >= other
        grow = np.where(after_blank, blank[:-1, None], other)
        score, back = char.copy(), np.full((most + 1, k), -2, np.int64)
        better = grow > score[1:]
        score[1:] = np.where(better, grow, score[1:])
        back[1:] = np.where(better, np.where(after_blank, -1, other_i), -2)
        char, blank, back_char[t] = score + logp[t, tokens], new_blank, back
    ends = np.maximum(blank[fewest:], char[fewest:].max(-1))
    path = np.full(columns, BLANK, np.int64)
    if not np.isfinite(ends.max()):
        return path
    n = fewest + int(ends.argmax())
    state = -1 if blank[n] >= char[n].max() else int(char[n].argmax())
    for t in range(columns - 1, -1, -1):
        if state == -1:
            state = int(back_blank[t, n])
            continue
        path[t] = tokens[state]
        came = int(back_char[t, n, state])
        if came != -2:
            n, state = n - 1, came
    return path


def _spell(path: np.ndarray, probs: np.ndarray) -> list[tuple[int, float]]:
    """(token, probability) of each character of a (T,) column path with (T, V) `probs`:
    repeats merged (keeping their best probability), blanks dropped."""
    chars: list[tuple[int, float]] = []
    prev = BLANK
    for tok, p in zip(path.tolist(), probs[np.arange(len(path)), path].tolist(), strict=True):
        if tok != BLANK and tok == prev:
            chars[-1] = (tok, max(chars[-1][1], p))
        elif tok != BLANK:
            chars.append((tok, p))
        prev = tok
    return chars


BEAM_FLOOR = 1e-3
"""A column's tokens below this probability extend no prefix in `ctc_beam` when the length is
free: they cannot lift a labelling into the top few, and skipping them keeps the search to a
handful of tokens a column."""
TOLD_TOKENS = 8
"""Tokens a column may extend a prefix by when the length is told: a line read short must spell
one more character somewhere, however unlikely each is, so the likeliest few extend, not those
above `BEAM_FLOOR`."""


def ctc_beam(
    probs: np.ndarray,
    k: int,
    allowed: np.ndarray,
    lengths: tuple[int, int] | None = None,
    width: int = 16,
) -> list[tuple[tuple[int, ...], float]]:
    """The `k` likeliest labellings of one line's (T, V) column probabilities, each with its
    probability summed over every path that spells it (CTC prefix beam search, Hannun et al.
    2014), best first; only `allowed` tokens and, with `lengths` (fewest, most), only so many of
    them. `width` prefixes are kept per column, or per length when lengths are told, so that
    short prefixes cannot crowd out the longer ones a length needs, and a prefix that could no
    longer reach `fewest` in the columns left is dropped. A line's alternatives: greedy decoding
    gives its reading, the one best path, and this the next likeliest texts."""
    keep = np.isin(np.arange(probs.shape[1]), allowed)
    keep[BLANK] = False
    fewest, most = lengths if lengths is not None else (1, probs.shape[0])
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}  # (ends blank, not)
    scale = 0.0  # log of what the probabilities were divided by, so long lines do not underflow
    for left, column in zip(range(len(probs) - 1, -1, -1), probs.astype(np.float64), strict=True):
        if lengths is None:
            tokens = np.flatnonzero(keep & (column >= BEAM_FLOOR)).tolist()
        else:
            tokens = [t for t in np.argsort(-column)[: TOLD_TOKENS + 1].tolist() if keep[t]]
        grown: dict[tuple[int, ...], list[float]] = {}
        for prefix, (blank, spelt) in beams.items():
            total = blank + spelt
            here = grown.setdefault(prefix, [0.0, 0.0])
            here[0] += total * column[BLANK]
            if prefix:  # the last character again, with no blank between: the same character
                here[1] += spelt * column[prefix[-1]]
            if len(prefix) == most:
                continue
            for t in tokens:
                longer = grown.setdefault((*prefix, t), [0.0, 0.0])
                longer[1] += (blank if prefix and prefix[-1] == t else total) * column[t]
        ranked = sorted(
            ((prefix, b + s) for prefix, (b, s) in grown.items() if len(prefix) + left >= fewest),
            key=lambda item: -item[1],
        )
        kept: dict[int, int] = {}  # prefixes kept of each length
        beams = {}
        top = ranked[0][1] if ranked else 0.0
        if top <= 0:
            return []
        for prefix, _ in ranked:
            n = len(prefix) if lengths is not None else 0
            if kept.get(n, 0) < width:
                kept[n] = kept.get(n, 0) + 1
                b, s = grown[prefix]
                beams[prefix] = (b / top, s / top)
        scale += float(np.log(top))
    found = [(prefix, (b + s) * float(np.exp(scale))) for prefix, (b, s) in beams.items()
             if len(prefix) >= fewest]  # fmt: skip
    return sorted(found, key=lambda item: -item[1])[:k]
