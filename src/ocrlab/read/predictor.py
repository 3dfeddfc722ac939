"""The one Predictor: preprocess → model → postprocess → `Reading`s.

Built once from a run folder (its `Checkpoint` says what the model is, so no flags are needed) and
then called on batches of images: paths, bytes, Pillow images or uint8 arrays of any size and mode.
Preprocessing is the model kind's one function (`ocrlab.runtime.preprocess`), the one training
used. Decoding is greedy unless `top_k` > 1 asks for alternatives (then beam search). A letters
model classifies whole images here; `ocrlab.read.resolve.load` wraps it in the letter reader.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ocrlab.charset import BOS, SPECIALS, Charset, Tokenizer
from ocrlab.data.images import decode
from ocrlab.errors import DatasetError
from ocrlab.models import build
from ocrlab.models.seq2seq import Seq2Seq
from ocrlab.read.hint import Hint
from ocrlab.read.reading import ImageLike, Reading
from ocrlab.runtime import checkpoint
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.ctc import ctc_beam, ctc_constrained, ctc_greedy, first_spelt
from ocrlab.runtime.device import resolve_device
from ocrlab.runtime.line import (
    VIEWS,
    from_column,
    in_colour,
    read_in_buckets,
    text_widths,
    view,
)
from ocrlab.runtime.preprocess import PREPROCESS, preprocess, scale

__all__ = ["ImageLike", "Predictor", "Reading"]  # Reading lives in read/reading.py


class Predictor:
    """A loaded model with its preprocessing; `read(images)` returns one Reading per image."""

    def __init__(self, model: torch.nn.Module, ckpt: Checkpoint, device: torch.device) -> None:
        self.model, self.checkpoint, self.device = model.eval(), ckpt, device
        self.kind, self.size, self.mode = ckpt.kind, ckpt.input_size, ckpt.mode
        self.classes: list[str] = list(ckpt.classes)
        self.tokenizer: Tokenizer | None = None
        self.hint: Hint | None = None
        """What the text may be, for a line model's decoder (`ocrlab.read.hint.hinted`)."""
        if self.kind in ("seq", "line"):
            self.tokenizer = Tokenizer(Charset(ckpt.charset), ckpt.max_len)

    @classmethod
    def load(cls, run: Path, device: str = "auto") -> Predictor:
        ckpt = checkpoint.load_checkpoint(run)
        if ckpt.kind not in PREPROCESS:
            raise DatasetError(f"{run} holds a {ckpt.kind!r} model; known: {sorted(PREPROCESS)}")
        dev = resolve_device(device)
        model = checkpoint.load_model(run, ckpt, lambda: build(ckpt.model, **ckpt.model_config))
        return cls(model.to(dev), ckpt, dev)

    def preprocess(self, images: Sequence[ImageLike]) -> np.ndarray:
        """Any images → (N, H, W, C) uint8 at the model's input size (see the module doc)."""
        return preprocess(self.kind, images, self.size, self.mode, self.checkpoint.steps)

    @torch.no_grad()
    def probabilities(self, batch: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(N, H, W, C) uint8 at the input size → (N, K) class probabilities."""
        probs = []
        for start in range(0, len(batch), batch_size):
            x = torch.from_numpy(scale(batch[start : start + batch_size])).to(self.device)
            probs.append(torch.softmax(self.model(x).float(), dim=1).cpu().numpy())
        return np.concatenate(probs) if probs else np.zeros((0, len(self.classes)), np.float32)

    def read(self, images: Sequence[ImageLike], top_k: int = 1) -> list[Reading]:
        """One Reading per image: text, confidence, per-character probabilities, top-k."""
        return self.read_batch(self.preprocess(images), top_k, colour_look(self, images))

    def read_batch(
        self, batch: np.ndarray, top_k: int = 1, colour: Colour | None = None
    ) -> list[Reading]:
        """Readings of an already preprocessed (N, H, W, C) uint8 batch (see `preprocess`); a
        line model's looks again at the unsure ones in `colour` and, where its checkpoint says
        so, widened (`read_lines`)."""
        if self.kind == "line":
            assert self.tokenizer is not None
            charset, wide = self.tokenizer.charset, self.checkpoint.wide
            return read_lines(batch, self.column_probs, charset, self.hint, top_k, colour, wide)
        if self.kind == "seq":
            return [
                r for s in range(0, len(batch), 64) for r in self._spell(batch[s : s + 64], top_k)
            ]
        return self._classify(batch, top_k)

    @torch.no_grad()
    def column_probs(self, batch: np.ndarray) -> np.ndarray:
        """(N, H, W, 1) uint8 lines of any width W → (N, W/4, V) per-column probabilities of a
        line model."""
        x = torch.from_numpy(scale(batch)).to(self.device)
        return self.model(x).float().softmax(-1).cpu().numpy()

    def _classify(self, batch: np.ndarray, top_k: int) -> list[Reading]:
        return readings_from_probs(self.probabilities(batch), self.classes, top_k)

    @torch.no_grad()
    def _spell(self, batch: np.ndarray, top_k: int) -> list[Reading]:
        """Greedy decoding for one reading, beam search for `top_k` > 1 alternatives."""
        assert self.tokenizer is not None
        model = self.model
        assert isinstance(model, Seq2Seq)
        x = torch.from_numpy(scale(batch)).to(self.device)
        if top_k <= 1:
            tokens, _ = model.greedy(x)
            candidates, scores = tokens[:, None], torch.zeros(len(batch), 1)
        else:
            candidates, scores = model.beam(x, top_k)
        best = candidates[:, 0]  # (B, L)
        step_p = self._token_probs(x, best)  # (B, L)
        readings = []
        for i in range(len(batch)):
            text = self.tokenizer.decode(best[i].tolist())
            p = step_p[i].tolist()
            chars = list(zip(text, p[: len(text)], strict=True))
            confidence = float(np.prod(p[: len(text) + 1]))  # every character and the <eos>
            topk = [(text, confidence)]
            if top_k > 1:
                seen = {text}
                for j in range(1, candidates.shape[1]):
                    alt = self.tokenizer.decode(candidates[i, j].tolist())
                    if alt not in seen:
                        seen.add(alt)
                        topk.append((alt, float(torch.exp(scores[i, j]))))
            readings.append(Reading(text, confidence, chars, topk))
        return readings

    def _token_probs(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Probability the model gives each token of `tokens` (B, L), teacher-forced."""
        assert isinstance(self.model, Seq2Seq)
        start = torch.full((len(tokens), 1), BOS, dtype=torch.long, device=tokens.device)
        logits = self.model(x, torch.cat([start, tokens[:, :-1]], dim=1))  # (B, L, V)
        return torch.softmax(logits.float(), -1).gather(2, tokens[..., None])[..., 0].cpu()


def readings_from_probs(probs: np.ndarray, classes: list[str], top_k: int) -> list[Reading]:
    """Readings from (N, K) class probabilities: the best class and the top-k."""
    k = max(1, min(top_k, len(classes)))
    readings = []
    for row in probs:
        best = np.argsort(-row, kind="stable")[:k]
        top = [(classes[j], float(row[j])) for j in best]
        readings.append(Reading(top[0][0], top[0][1], [], top))
    return readings


BLANK = 8
"""Grey levels between a line's darkest and lightest pixel at or below which it holds no text
(a blank image, give or take its compression noise); one stroke of ink anywhere spans more."""


def readings_from_columns(
    probs: np.ndarray, charset: Charset, hint: Hint | None = None, top_k: int = 1
) -> list[Reading]:
    """Readings from (N, T, V) column probabilities of a CTC line model, decoded greedily, or
    by the best path `hint` allows; the confidence is the product of the characters'
    probabilities. `top_k` > 1 adds the next likeliest texts `hint` allows as alternatives, each
    with its probability summed over its paths (`ctc_beam`), which can exceed the reading's own
    confidence, a product over its characters; a thorough reading gives its views' instead
    (`agree`)."""
    told = hint or Hint()
    allowed, lengths = told.tokens(charset.chars), told.lengths  # no special token but the blank
    if not told.charset and lengths is None:
        paths = ctc_greedy(probs)
    else:
        paths = ctc_constrained(probs, allowed, lengths)
    readings = []
    for chars, line in zip(paths, probs, strict=True):
        pairs = [(charset.chars[t - len(SPECIALS)], p) for t, p in chars if t >= len(SPECIALS)]
        text = "".join(c for c, _ in pairs)
        confidence = float(np.prod([p for _, p in pairs])) if pairs else 0.0
        topk = [(text, confidence)]
        if top_k > 1:
            spelt = (("".join(charset.chars[t - len(SPECIALS)] for t in tokens), p)
                     for tokens, p in ctc_beam(line, top_k, allowed, lengths))  # fmt: skip
            topk += [(other, p) for other, p in spelt if other != text][: top_k - 1]
        readings.append(Reading(text, confidence, pairs, topk))
    return readings


Colour = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Lines by index (an int array) → which of them (positions in that array, an int array) have
colour, and their lines in a grey that keeps their colour contrast, (n, H, W, 1) as the batch's.
It may name grey ones too: `read_lines` reads again only the lines that come back changed."""


def colour_look(reader: Any, images: Sequence[ImageLike]) -> Colour | None:
    """`images`' lines with their colour contrast kept (`ocrlab.runtime.line.grey`), prepared on
    demand for the images in colour, where `reader` is a line model that looks again in colour
    (`Checkpoint.colour`) and its hint does not say otherwise (`Hint.colour`). A grey image's
    line would come out as its first one: it is not prepared again (an eighth of the int8
    export's reading of captcha_images_v2, whose unsure lines are a third)."""
    ckpt, hint = reader.checkpoint, getattr(reader, "hint", None)
    if ckpt.kind != "line" or not ckpt.colour or (hint is not None and not hint.colour):
        return None
    steps = dataclasses.replace(ckpt.steps, chroma=True)

    def look(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        decoded = [decode(images[i]) for i in idx]
        which = np.flatnonzero([in_colour(image) for image in decoded])
        lines = preprocess("line", [decoded[k] for k in which], reader.size, "L", steps)
        return which, lines

    return look


def read_lines(
    batch: np.ndarray,
    column_probs: Callable[[np.ndarray], np.ndarray],
    charset: Charset,
    hint: Hint | None = None,
    top_k: int = 1,
    colour: Colour | None = None,
    wide: bool = False,
) -> list[Reading]:
    """Readings of (N, H, W, 1) uint8 lines, each read at its bucket's width
    (`ocrlab.runtime.line.width_buckets`) by `column_probs`: lines → (n, w/4, V), told `hint`
    (`read_views`). A blank line (one grey level, give or take `BLANK`) reads as no text: the
    model, which has seen text in every image it trained on, would name a letter in it.

    Three second looks, each kept by its own rule (docs/general.md, "Colour", "A first letter
    far in" and "Squeezed text"): with `colour`, a line read with a confidence under `SURE`
    whose image has colour contrast its grey lost is read again in `colour` (so, told and
    thoroughly), and the surer reading is kept: khaki text on kraft paper reads there, while
    shadows and textures that colour contrast darkens as much as the text keep their grey
    reading. A line whose reading spells its first character more than `LEAD` columns in is read
    again begun just before it (`lead_look`), in colour where the look in colour's reading was
    kept, unless a hint fixes the length, which leaves no room for a letter more. And with
    `wide`, a short line still read unsure is read again in grey with its text wider, and that
    reading is kept where it is much surer (`_wide_look`; widened in colour, the `captcha`
    library's lines read worse)."""
    out, first = _read_lines(batch, column_probs, charset, hint, top_k)
    read = batch  # each line as its reading was read
    if colour is not None:
        read = _colour_look(batch, out, first, colour, column_probs, charset, hint, top_k)
    fixed = hint is not None and hint.lengths is not None and hint.lengths[0] == hint.lengths[1]
    far = np.flatnonzero(first > LEAD)
    if len(far) and not fixed:
        again, _ = _read_lines(
            from_column(read[far], first[far] - LEAD_ROOM), column_probs, charset, hint, top_k
        )
        for i, reading in zip(far, again, strict=True):
            out[i] = lead_look(out[i], reading)
    if wide:
        _wide_look(batch, out, column_probs, charset, hint, top_k)
    return out


LEAD, LEAD_ROOM = 64, 16
"""A line whose first character the reader spells more than `LEAD` columns (two line heights)
in is read again begun `LEAD_ROOM` columns before that character. After a long stretch of
textured paper the reader can drop a word's first letter at full confidence (`fRAMe` read
`RAMe`, 100 %): it trained on text centred on its canvas, and ocrlab's hard set places a short
word anywhere on a wide one (9 of its 55 misses among 400 images, seed 4)."""


LEAD_SURE = 0.5
"""The confidence at which `lead_look` takes the letter more: better than a guess, and far below
the plain reading's, which is sure of its letters whether or not it missed one before them."""


def lead_look(plain: Reading, begun: Reading) -> Reading:
    """The reading of a line begun just before its first character where it is the plain
    reading with one character more in front, read with a confidence of at least `LEAD_SURE`: a
    letter the stretch before it hid. Anything else it reads is no better evidence than the
    plain reading."""
    added = len(begun.text) == len(plain.text) + 1 and begun.text[1:] == plain.text
    return begun if added and begun.confidence >= LEAD_SURE else plain


WIDE, WIDE_SURE, WIDE_LONGEST, WIDE_ODDS = 1.5, 0.5, 12, 2.0
"""A line read with a confidence under `WIDE_SURE` (more likely wrong than right) in at most
`WIDE_LONGEST` characters (the longest text the zoo draws) is read again with its text `WIDE`
times as wide, and that reading is kept where it is more than `WIDE_ODDS` times as sure. A
CAPTCHA that fits a long text into its canvas squeezes its glyphs to half their width (the
`captcha` library), and the reader, which sees a glyph at one size whatever its font, misreads
them; text that is not squeezed reads less surely widened. Merely surer was not enough: told a
scheme's format, captcha_images_v2's unsure lines found surer wrong readings widened
(docs/general.md, "Squeezed text")."""


def _wide_look(
    batch: np.ndarray,
    out: list[Reading],
    column_probs: Callable[[np.ndarray], np.ndarray],
    charset: Charset,
    hint: Hint | None,
    top_k: int,
) -> None:
    """`read_lines`' look at unsure short lines widened (`WIDE`), in place."""
    short = np.array(
        [i for i, r in enumerate(out) if r.confidence < WIDE_SURE and len(r.text) <= WIDE_LONGEST],
        np.int64,
    )
    looked = short[np.round(text_widths(batch[short]) * WIDE) <= batch.shape[2]]
    if not len(looked):
        return
    again = _read_lines(view(batch[looked], WIDE, 1.0), column_probs, charset, hint, top_k)[0]
    for i, reading in zip(looked, again, strict=True):
        if reading.confidence > WIDE_ODDS * out[i].confidence:
            out[i] = reading


def _colour_look(
    batch: np.ndarray,
    out: list[Reading],
    first: np.ndarray,
    colour: Colour,
    column_probs: Callable[[np.ndarray], np.ndarray],
    charset: Charset,
    hint: Hint | None,
    top_k: int,
) -> np.ndarray:
    """`read_lines`' look in colour: the surer reading of each unsure colour line, in `out` and
    its first column in `first`, in place; and the lines the readings came from, for the look at
    the first letter (in colour as in grey, the reader can drop a first letter far in)."""
    unsure = np.flatnonzero([r.confidence < SURE for r in out])
    if not len(unsure):
        return batch
    which, again = colour(unsure)
    looked = unsure[which]  # the lines `again` holds, in its order
    moved = np.array(
        [k for k, i in enumerate(looked) if not np.array_equal(again[k], batch[i])], np.int64
    )
    second, at = _read_lines(again[moved], column_probs, charset, hint, top_k)
    read = batch.copy()
    for j, (k, i) in enumerate(zip(moved, looked[moved], strict=True)):
        if second[j].confidence > out[i].confidence:
            out[i], first[i], read[i] = second[j], at[j], again[k]
    return read


def _read_lines(
    batch: np.ndarray,
    column_probs: Callable[[np.ndarray], np.ndarray],
    charset: Charset,
    hint: Hint | None,
    top_k: int,
) -> tuple[list[Reading], np.ndarray]:
    """`read_lines` without its second looks, and the column where each line's plain reading
    spells its first character (-1 for none)."""
    out = [Reading("", 0.0, [], [("", 0.0)]) for _ in range(len(batch))]
    first = np.full(len(batch), -1, np.int64)
    if not len(batch):
        return out, first
    inked = np.flatnonzero(np.ptp(batch.reshape(len(batch), -1), axis=1) > BLANK)
    if not len(inked):
        return out, first
    lines = batch if len(inked) == len(batch) else batch[inked]

    allowed = hint.tokens(charset.chars) if hint is not None and hint.charset else None

    beam = 1 if hint is not None and hint.thorough else top_k  # views give a thorough's

    def decode(part: np.ndarray) -> list[tuple[Reading, int]]:
        probs = column_probs(part)
        at = first_spelt(probs, allowed)
        columns = np.where(at < 0, -1, at * (part.shape[2] // probs.shape[1])).tolist()
        readings = readings_from_columns(probs, charset, hint, beam)
        return list(zip(readings, columns, strict=True))

    plain = read_in_buckets(lines, decode)
    readings = read_views(
        lines,
        lambda cut: [r for r, _ in read_in_buckets(cut, decode)],
        hint,
        top_k,
        [r for r, _ in plain],
    )
    for i, reading, (_, column) in zip(inked, readings, plain, strict=True):
        out[i], first[i] = reading, column
    return out, first


SURE = 0.9
"""Confidence at or above which a thorough reading keeps a line's own reading and reads no other
view of it: the views seldom overturn a sure reading. On the general reader's zero-shot sets
(docs/general.md, "Reading thoroughly") as many right as reading every line in every view,
within 0.3 points on each set, for a third (clean print) to all (a scheme it cannot read) of the
views' cost."""


def read_views(
    lines: np.ndarray,
    read: Callable[[np.ndarray], list[Reading]],
    hint: Hint | None,
    top_k: int = 1,
    plain: list[Reading] | None = None,
) -> list[Reading]:
    """`read` of (N, H, W, 1) lines (`plain`, where the caller read them already); told
    `thorough`, each line read with a confidence under `SURE` (every line, when `top_k` asks for
    alternatives: they come from the views) is read in every view
    (`ocrlab.runtime.line.VIEWS`), its readings agreed into one (`agree`). A view that would
    stretch a line's text past the line's width (a squeezed line) has no vote for it."""
    plain = read(lines) if plain is None else plain
    if hint is None or not hint.thorough:
        return plain
    unsure = [i for i, r in enumerate(plain) if top_k > 1 or r.confidence < SURE]
    if not unsure:
        return plain
    doubtful = lines[unsure]
    widths = text_widths(doubtful)
    votes = [[plain[i]] for i in unsure]
    for across, down in VIEWS[1:]:
        fits = np.round(widths * across * down) <= lines.shape[2]
        seen = read(view(doubtful, across, down))
        for j in np.flatnonzero(fits):
            votes[j].append(seen[j])
    out = list(plain)
    for i, readings in zip(unsure, votes, strict=True):
        out[i] = agree(readings, top_k)
    return out


def agree(readings: Sequence[Reading], top_k: int = 1) -> Reading:
    """One reading from several of the same line: the text with the most confidence summed over
    the readings, its confidence that sum over their number, its characters those of its surest
    reading, and (`top_k` > 1) the next texts any reading gave some confidence, in that order,
    as its alternatives."""
    votes: dict[str, float] = {}
    for r in readings:
        votes[r.text] = votes.get(r.text, 0.0) + r.confidence
    ranked = sorted(votes, key=lambda text: -votes[text])  # stable: ties go to the first view
    best = max((r for r in readings if r.text == ranked[0]), key=lambda r: r.confidence)
    share = [(text, votes[text] / len(readings)) for text in ranked]
    topk = share[:1] + [(text, p) for text, p in share[1:] if p > 0][: max(top_k, 1) - 1]
    return Reading(best.text, share[0][1], best.chars, topk)
