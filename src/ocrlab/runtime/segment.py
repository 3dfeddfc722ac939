"""Cut an ink mask into letters in reading order: the "letter segmentation" of "Letter Recognition",
made robust.

Connected components (8-connected, found on row runs with a union-find, so the Python loop runs
over runs, not pixels) lose their dots to the stems below them (i, j) and are grouped into lines
by vertical overlap; within a line, small pieces left above or below a letter join it; specks too
small to be letters are dropped; pieces much wider than the line is tall (letters that touch) are
split; letters are ordered left to right and lines top to bottom. NumPy only.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ocrlab.errors import ConfigError

Mask = npt.NDArray[np.bool_]
Labels = npt.NDArray[np.int32]


@dataclass(frozen=True)
class SegmentConfig:
    """Thresholds of the segmenter, relative to sizes measured in the image itself."""

    min_area: float = 0.02
    """Specks below this fraction of the largest component's area are noise and dropped."""
    small: float = 0.4
    """A piece shorter than this fraction of its line's letter height is a dot or a mark, which
    joins the letter it overlaps horizontally (i, j) or is dropped."""
    wide: float = 1.25
    """A piece wider than this many line heights may be touching letters: `segment` splits it at
    its weakest column; the letter reader splits it only where its model agrees."""
    widest: float = 1.9
    """No letter is wider than this many line heights (a wide W is about 1.5): the letter reader
    cuts no letter wider."""
    split_penalty: float = 0.0
    """Log-probability each extra letter costs when the letter reader cuts a wide piece, so a
    model confident on fragments of one letter does not cut it."""
    space: float = 0.6
    """A gap wider than this many line heights between letters is a space; 0: never a space."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_area < 1 or not 0 < self.small < 1 or self.wide <= 0.5:
            raise ConfigError("need 0 ≤ min_area < 1, 0 < small < 1 and wide > 0.5")
        if self.widest < self.wide or self.split_penalty < 0:
            raise ConfigError("need widest ≥ wide and split_penalty ≥ 0")
        if self.space < 0:
            raise ConfigError("need space ≥ 0")


@dataclass(frozen=True)
class Piece:
    """One letter (or mark): its box in the image, [top, bottom) × [left, right), and its ink."""

    top: int
    left: int
    bottom: int
    right: int
    mask: Mask

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def components(mask: Mask) -> tuple[Labels, int]:
    """8-connected components of `mask` → (labels (H, W) int32 with 0 = background, count)."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    starts_r, starts_c = np.nonzero(edges == 1)
    _, ends_c = np.nonzero(edges == -1)  # run = row r, columns [start, end)
    parent = list(range(len(starts_r)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_first = np.searchsorted(starts_r, np.arange(h + 1)).tolist()  # runs of row r: [r], [r+1]
    starts, ends = starts_c.tolist(), ends_c.tolist()
    for r in range(1, h):
        j0 = row_first[r - 1]
        for i in range(row_first[r], row_first[r + 1]):
            for j in range(j0, row_first[r]):
                if ends[j] < starts[i]:  # ends before this run starts, diagonal included
                    j0 = j + 1
                    continue
                if starts[j] > ends[i]:
                    break
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    roots = np.array([find(i) for i in range(len(parent))], dtype=np.int64)
    ids = np.unique(roots, return_inverse=True)[1].astype(np.int32) + 1 if len(roots) else roots
    labels = np.zeros((h, w), dtype=np.int32)
    for row, c0, c1, label in zip(starts_r, starts, ends, ids.tolist(), strict=True):
        labels[row, c0:c1] = label
    return labels, int(ids.max()) if len(ids) else 0


def _pieces(labels: Labels, count: int, min_area: float) -> list[Piece]:
    """The components at least `min_area` × the largest one's area, each with its box and ink."""
    rows, cols = np.nonzero(labels)
    ids = labels[rows, cols]
    area = np.bincount(ids, minlength=count + 1)
    top = np.full(count + 1, labels.shape[0], dtype=np.int64)
    left = np.full(count + 1, labels.shape[1], dtype=np.int64)
    bottom = np.zeros(count + 1, dtype=np.int64)
    right = np.zeros(count + 1, dtype=np.int64)
    np.minimum.at(top, ids, rows)
    np.minimum.at(left, ids, cols)
    np.maximum.at(bottom, ids, rows + 1)
    np.maximum.at(right, ids, cols + 1)
    keep = [i for i in range(1, count + 1) if area[i] >= min_area * area.max()]
    return [
        Piece(
            int(top[i]),
            int(left[i]),
            int(bottom[i]),
            int(right[i]),
            labels[top[i] : bottom[i], left[i] : right[i]] == i,
        )
        for i in keep
    ]


def merge(a: Piece, b: Piece) -> Piece:
    """One piece holding the ink of both."""
    top, left = min(a.top, b.top), min(a.left, b.left)
    bottom, right = max(a.bottom, b.bottom), max(a.right, b.right)
    mask = np.zeros((bottom - top, right - left), dtype=bool)
    for p in (a, b):
        mask[p.top - top : p.bottom - top, p.left - left : p.right - left] |= p.mask
    return Piece(top, left, bottom, right, mask)


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def group_lines(pieces: list[Piece], small: float) -> list[list[Piece]]:
    """Pieces → lines, top to bottom. Tall pieces open or join the line they overlap most
    vertically (by half the shorter height or more); small ones join the nearest line."""
    if not pieces:
        return []
    # The upper quartile of heights is a letter's height even when half the pieces are dots.
    tall = float(np.percentile([p.height for p in pieces], 75))
    big = sorted((p for p in pieces if p.height >= small * tall), key=lambda p: p.top)
    lines: list[list[Piece]] = []
    spans: list[list[int]] = []
    for p in big:
        best = max(
            range(len(lines)),
            key=lambda i: _overlap(p.top, p.bottom, *spans[i]),
            default=None,
        )
        if best is not None:
            shorter = min(p.height, spans[best][1] - spans[best][0])
            if _overlap(p.top, p.bottom, *spans[best]) * 2 >= shorter:
                lines[best].append(p)
                spans[best] = [min(spans[best][0], p.top), max(spans[best][1], p.bottom)]
                continue
        lines.append([p])
        spans.append([p.top, p.bottom])
    for p in pieces:
        if p.height < small * tall:
            centre = (p.top + p.bottom) / 2
            near = min(range(len(lines)), key=lambda i: _gap(centre, spans[i]))
            lines[near].append(p)
    order = sorted(range(len(lines)), key=lambda i: spans[i][0])
    return [lines[i] for i in order]


def _gap(y: float, span: list[int]) -> float:
    return max(span[0] - y, y - span[1], 0.0)


def join_dots(pieces: list[Piece]) -> list[Piece]:
    """Join each dot to the stem just below or above it (i, j): a piece at most half as tall and
    half as heavy as another, over it by half its width or more, within a third of that piece's
    height. Done before lines are found, or a bold i's big dot would make a line of its own."""
    order = sorted(pieces, key=lambda p: -int(p.mask.sum()))  # stems before dots
    out: list[Piece] = []
    for p in order:
        area = int(p.mask.sum())
        for n, stem in enumerate(out):
            gap = max(stem.top - p.bottom, p.top - stem.bottom)
            if (
                0 <= gap <= stem.height / 3
                and 2 * p.height <= stem.height
                and 2 * area <= int(stem.mask.sum())
                and 2 * _overlap(p.left, p.right, stem.left, stem.right) >= p.width
            ):
                out[n] = merge(stem, p)
                break
        else:
            out.append(p)
    return out


def join_marks(line: list[Piece], small: float) -> list[Piece]:
    """Join each small piece (a dot) to the tall piece it overlaps most horizontally; a small
    piece overlapping none stays alone. Pieces come back left to right."""
    height = float(np.percentile([p.height for p in line], 75))
    tall = [p for p in line if p.height >= small * height]
    marks = [p for p in line if p.height < small * height]
    if not tall:
        return sorted(line, key=lambda p: p.left)
    for m in marks:
        best = max(
            range(len(tall)), key=lambda i: _overlap(m.left, m.right, tall[i].left, tall[i].right)
        )
        if _overlap(m.left, m.right, tall[best].left, tall[best].right) > 0:
            tall[best] = merge(tall[best], m)
        else:
            tall.append(m)
    return sorted(tall, key=lambda p: p.left)


def split_wide(piece: Piece, height: float, wide: float) -> list[Piece]:
    """Split a piece wider than `wide` × `height` into letters of about `height` width each, at
    the columns with the least ink near the expected boundaries (recursively, halves first)."""
    if piece.width <= wide * height:
        return [piece]
    parts = max(2, round(piece.width / (0.8 * height)))
    ink = piece.mask.sum(0).astype(np.float32)
    # The weakest column near the first expected boundary, searched within ± a third of a letter.
    expect = piece.width // parts
    lo, hi = max(1, expect - expect // 3), min(piece.width - 1, expect + expect // 3 + 1)
    cut = lo + int(np.argmin(ink[lo:hi])) if hi > lo else expect
    left = sub_piece(piece, 0, cut)
    right = sub_piece(piece, cut, piece.width)
    return [p for part in (left, right) if part is not None for p in split_wide(part, height, wide)]


def cut_candidates(piece: Piece, height: float) -> list[int]:
    """Columns where a wide piece might be cut into letters: both ends, every local minimum of
    its column ink smoothed over a twelfth of a line height (where round letters touch) and a grid
    every sixth of a line height (where stems touch there is no minimum to find). Sorted, at
    least a twelfth of a line height apart, so the reader's search stays small."""
    gap = max(2, round(height / 12))
    ink = np.convolve(piece.mask.sum(0), np.ones(gap) / gap, mode="same")
    inner = range(1, piece.width - 1)
    minima = [c for c in inner if ink[c] <= ink[c - 1] and ink[c] < ink[c + 1]]
    grid = range(2 * gap, piece.width - 1, 2 * gap)
    kept = [0]
    for c in sorted({*minima, *grid}):
        if c - kept[-1] >= gap and piece.width - c >= gap:
            kept.append(c)
    return [*kept, piece.width]


def sub_piece(piece: Piece, c0: int, c1: int) -> Piece | None:
    """Columns [c0, c1) of a piece, trimmed to their ink; None if they hold none."""
    mask = piece.mask[:, c0:c1]
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return None
    sub = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    top, left = piece.top + int(rows[0]), piece.left + c0 + int(cols[0])
    return Piece(top, left, top + sub.shape[0], left + sub.shape[1], sub)


def segment_lines(mask: Mask, config: SegmentConfig | None = None) -> list[list[Piece]]:
    """An ink mask → lines (top to bottom) of pieces (left to right): components with their dots
    joined and specks dropped, not yet split (see `segment`)."""
    config = config or SegmentConfig()
    labels, count = components(mask)
    pieces = join_dots(_pieces(labels, count, config.min_area))
    lines = []
    for line in group_lines(pieces, config.small):
        joined = join_marks(line, config.small)
        height = line_height(joined)
        lines.append([p for p in joined if p.height >= config.small * height])
    return [line for line in lines if line]


def line_height(line: list[Piece]) -> float:
    """A line's letter height: the median piece height."""
    return float(np.median([p.height for p in line]))


def segment(mask: Mask, config: SegmentConfig | None = None) -> list[list[Piece]]:
    """`segment_lines`, with every piece wider than `wide` line heights split at its weakest
    columns. Geometry alone cannot tell a wide W from two touching letters; the letter reader
    asks its model instead (`LetterReader`)."""
    config = config or SegmentConfig()
    return [
        [q for p in line for q in split_wide(p, line_height(line), config.wide)]
        for line in segment_lines(mask, config)
    ]


def spaces(line: list[Piece], space: float) -> list[bool]:
    """For each piece after the first, whether a space precedes it (gap > `space` × height)."""
    if space <= 0 or len(line) < 2:
        return [False] * max(0, len(line) - 1)
    height = line_height(line)
    return [b.left - a.right > space * height for a, b in itertools.pairwise(line)]
