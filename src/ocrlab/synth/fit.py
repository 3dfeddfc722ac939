"""The canvas: the largest rendering of any word in any font, in its widest casing, plus a margin.

Measuring every word in every font is words × fonts × letters FreeType calls (an hour for 8,000
words and 100 fonts). Instead each font's widest-casing advance of every word is summed in one NumPy
pass from per-character advances and per-pair kerning (`FontMetrics`, measured once and cached),
less the first glyph's left bearing and plus the last glyph's overhang: an estimate of the ink
width. Only words whose estimate comes within a per-font tolerance of the widest exact ink found so
far are measured exactly (`getbbox`), longest first. The tolerance covers what the estimate leaves
out (an inner glyph's overhang or bearing, negative kerning, rounding), so the width equals
measuring every word (tested on many fonts; `bench_generate.py --check-words` on system fonts).
Another casing than the widest can kern a few pixels wider (6 px at most seen, cmsy10 at 32 px):
the margin absorbs that, and `render` raises rather than clip. Imports NumPy and Pillow only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ocrlab.synth.metrics import FontMetrics
from ocrlab.synth.render import Canvas

Progress = Callable[[str, int, int], None]
"""Called as (step, done, total) while a planning step runs."""


def widest_casing(word: str, length: Callable[[str], float]) -> str:
    """`word` with each letter in whichever case has the larger advance (`length`): the worst
    case of random casing."""
    return "".join(max((c.lower(), c.upper()), key=length) for c in word)


class Words:
    """A vocabulary as character and adjacent-pair indices, encoded once for every font."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)
        self.chars = sorted(set("".join(self.words)))
        c = len(self.chars)  # the padding index
        lookup = {ch: k for k, ch in enumerate(self.chars)}
        longest = max(map(len, self.words))
        self.idx = np.full((len(self.words), longest), c, np.int64)
        for i, word in enumerate(self.words):
            self.idx[i, : len(word)] = [lookup[ch] for ch in word]
        lengths = np.array([len(w) for w in self.words])
        self.first = self.idx[:, 0]
        self.last = self.idx[np.arange(len(self.words)), lengths - 1]
        codes = self.idx[:, :-1] * (c + 1) + self.idx[:, 1:]
        valid = np.arange(longest - 1)[None, :] < (lengths - 1)[:, None]
        self.pairs, inverse = np.unique(codes[valid], return_inverse=True)
        self.pidx = np.full(codes.shape, len(self.pairs), np.int64)
        self.pidx[valid] = inverse.ravel()


@dataclass(frozen=True)
class _Estimate:
    casing: list[str]
    width: np.ndarray
    tolerance: float


def _estimate(words: Words, m: FontMetrics) -> _Estimate:
    casing = [widest_casing(ch, m.length) for ch in words.chars]
    adv = np.array([m.length(v) for v in casing] + [0.0])
    left = np.array([m.box(v)[0] for v in casing], np.float64)
    over = np.array([m.box(v)[2] for v in casing]) - adv[:-1]
    n = len(casing) + 1
    kern = np.array(
        [m.length(casing[p // n] + casing[p % n]) for p in words.pairs.tolist()], np.float64
    )
    kern = np.append(kern - adv[words.pairs // n] - adv[words.pairs % n], 0.0)
    width = adv[words.idx].sum(1) + kern[words.pidx].sum(1) - left[words.first] + over[words.last]
    tolerance = 2.0 + np.ptp(over) + np.ptp(left) + max(0.0, -float(kern.min()))
    return _Estimate(casing, width, float(tolerance))


def _widest(words: Words, m: FontMetrics, floor: int) -> int:
    """max(floor, widest exact ink of any word), measuring only words that could exceed floor."""
    est = _estimate(words, m)
    best = floor
    for i in np.argsort(-est.width, kind="stable").tolist():
        if est.width[i] + est.tolerance <= best:
            break
        text = "".join(est.casing[k] for k in words.idx[i, : len(words.words[i])].tolist())
        left, _, right, _ = m.font.getbbox(text, anchor="ls")
        best = max(best, int(right - left))
    return best


def _height(words: Words, m: FontMetrics) -> int:
    chars = "".join(sorted({x for c in words.chars for x in c.lower() + c.upper()}))
    _, top, _, bottom = m.font.getbbox(chars, anchor="ls")
    return int(bottom - top)


def ink_size(
    words: Sequence[str],
    fonts: Sequence[FontMetrics],
    floor: tuple[int, int] = (0, 0),
    progress: Progress | None = None,
) -> tuple[int, int]:
    """(height, width) of the largest ink of any word in any font and casing, or `floor` if more.

    Words that cannot exceed the floor are never measured exactly: with the floor of a given
    canvas, this is the check that it is large enough.
    """
    encoded = Words(words)
    height, width = floor
    for k, m in enumerate(fonts):
        height = max(height, _height(encoded, m))
        width = _widest(encoded, m, width)
        if progress is not None:
            progress("fitting canvas", k + 1, len(fonts))
    return height, width


def fit_canvas(
    words: Sequence[str],
    fonts: Sequence[FontMetrics],
    margin: int,
    multiple: int = 8,
    progress: Progress | None = None,
) -> Canvas:
    """The smallest canvas for every word in every font and casing, plus `margin` on each side,
    rounded up to a `multiple`."""
    height, width = ink_size(words, fonts, progress=progress)

    def round_up(n: int) -> int:
        return -(-(n + 2 * margin) // multiple) * multiple

    return Canvas(round_up(height), round_up(width))


def fits(
    canvas: Canvas,
    words: Sequence[str],
    fonts: Sequence[FontMetrics],
    margin: int,
    progress: Progress | None = None,
) -> bool:
    """Whether every word in every font and casing fits `canvas` with `margin` on each side."""
    room = (canvas.height - 2 * margin, canvas.width - 2 * margin)
    return min(room) >= 0 and ink_size(words, fonts, room, progress) == room
