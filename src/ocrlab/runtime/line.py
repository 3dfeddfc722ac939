"""The general reader's one preprocessing: grey, the text line's shape kept, one fixed size.

Every path (`ocrlab read`, the ONNX reader, the server, fine-tuning, the general trainer's
validation) turns an image into the model's input through `to_line`, so one image gives one tensor
everywhere. The image is converted to grey (ITU-R 601-2 luma; for the general reader's second look
at an unsure colour line, with its colour contrast kept: `grey`), resized to `HEIGHT` rows keeping
its aspect ratio, and padded on the right with the median of its border, the likeliest background
colour, up to `WIDTH` columns (a wider line is squeezed to it). A line turned by 3.5-20 degrees is
first stood upright and cropped to its text (`upright`), and a tight crop of clean text is given a
margin (`frame`), except for a model fine-tuned on one scheme, which is cut to its text's rows
instead (`crop`) and may also first wipe thin lines drawn over its scheme's text (`median`) and
close its dot-screened glyphs into solid strokes (`fill`). Stretching every image to one box, as the
"Breaking CAPTCHA" readers did, turns a 3-letter crop and a 12-letter CAPTCHA into different fonts.
Imports NumPy and Pillow only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PIL import Image, ImageFilter

T = TypeVar("T")

HEIGHT, WIDTH = 32, 1024
"""A line is read at up to 32 × 1024 (aspect 32:1, some 60 characters); each is cut to its text's
width before the model runs (`width_buckets`), so the canvas costs memory, not time. Squeezed
into 256 columns, as lines were before, 16-40 characters read 23.7 % exact instead of 72.0 %
(docs/general.md, "Long lines")."""
BUCKET = 32
"""Width step of the column buckets a line is read at (`width_buckets`)."""
MARGIN = 16
"""Columns of background a line keeps right of its text when read in its bucket."""
VIEWS = (
    (1.0, 1.0), (0.8, 1.0), (0.9, 1.0), (1.1, 1.0), (1.25, 1.0), (1.0, 1 / 1.2), (1.0, 1 / 1.4)
)  # fmt: skip
"""The (across, down) scales of a thorough reading's views (`view`): the line itself, its text
narrower and wider, and its text smaller in more background. A reader sees a glyph at one size
whatever the font's width; a view where the glyphs look like its training text reads surer."""
TURNS = np.arange(-20.0, 20.5, 1.0)
"""Degrees (anticlockwise) `turn` tries to stand a line upright by."""
LEAST_TURN = 3.0
"""A turn of at most this is left as it is (measured on a grid of whole degrees, it stands for
a line turned by under 3.5): the zoo turns whole lines by up to 3 degrees, and the reader reads
them (turned 10 and 15 degrees, clean strings read 72 and 44 % instead of 85 %;
docs/general.md, "Turned lines")."""
INK = 0.15
"""Share of an image's largest difference from its paper that makes a pixel ink (`turn`): low,
so that faint text beside a dark strike-through curve still counts."""
NARROWING = 1.15
"""How much thinner a line's ink band (5-95 % of its rows) must get when stood upright for the
turn to count. The row profile is sharpest at the angle of the longest straight stroke; on a
CAPTCHA that is often a strike-through curve across upright glyphs, and turning those glyphs by
the curve's angle makes their band wider, not thinner."""
CHROMA = 2.0
"""Grey levels a line gains per unit of its colour's distance from the paper's (`grey`)."""
LOOSE = 3
"""A clean line whose text (its ink's box) is under 1/`LOOSE` of its height is cut to its text
(`frame`): the zoo the general reader learnt from leaves the text at least a third of its image."""
BODY = 0.25
"""Share of the fullest row's ink that makes a row part of the text body where `crop` cuts."""
PAPER = 0.4
"""Share of a line's pixels within 12 grey levels of its paper that makes it a clean crop, one
`frame` may add a margin to: a tight crop of print is mostly paper; a CAPTCHA's noise, texture or
halo is not (captcha_images_v2 has a quarter of its pixels at its paper's grey)."""


def line_width(height: int, width: int, out_height: int = HEIGHT, out_width: int = WIDTH) -> int:
    """Columns the image's ink occupies after resizing to `out_height` rows, aspect kept."""
    return max(1, min(out_width, round(width * out_height / max(height, 1))))


@dataclass(frozen=True)
class LineSteps:
    """The optional steps of `to_line`: `frame` and `fill` as a line model learnt its lines, and
    so reads them (its `checkpoint.json` keeps them: `Checkpoint.steps`); `chroma` for the
    general reader's second look in colour (`ocrlab.read.predictor.colour_look`)."""

    frame: bool = True
    """Give a tight crop a margin (`frame`), as the general reader wants; a model fine-tuned on
    one scheme reads its images as they come."""
    fill: int = 0
    """Close the ink by a square of this side first (`fill`; 0: not), where a fine-tune on a
    dot-screened scheme learnt its glyphs solid."""
    median: int = 0
    """Take each pixel's median over a square of this side first (`median`; 0: not), where a
    fine-tune on a scheme drawn over by thin lines learnt its glyphs without them."""
    chroma: bool = False
    """Keep the colour contrast of text as bright as its paper in grey (`grey`)."""
    crop: bool = False
    """Cut the rows to the text body and a margin (`crop`), where a fine-tune learnt its scheme's
    text as large as the line's rows allow."""


GENERAL = LineSteps()
"""The steps of the general reader's own lines."""


def to_line(
    image: np.ndarray, height: int = HEIGHT, width: int = WIDTH, steps: LineSteps = GENERAL
) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 → (height, width) uint8, through the
    optional `steps` the model learnt with."""
    stood = upright(fill(median(grey(image, steps.chroma), steps.median), steps.fill))
    stood = crop(stood) if steps.crop else stood
    stood = frame(stood) if steps.frame else stood
    im = Image.fromarray(stood)
    w = line_width(im.height, im.width, height, width)
    if (im.height, im.width) != (height, w):
        im = im.resize((w, height), Image.Resampling.BILINEAR)
    resized = np.asarray(im, dtype=np.uint8)
    out = np.empty((height, width), np.uint8)
    out[:, :w] = resized
    if w < width:
        out[:, w:] = np.uint8(_background(resized))
    return out


def grey(image: np.ndarray, chroma: bool = False) -> np.ndarray:
    """(H, W[, 1, 3 or 4]) uint8 → (H, W) uint8 luma; with `chroma`, each pixel whose
    neighbourhood's colour (Cb, Cr, mean over 3 × 3) is further from the paper's (the border's
    median) than the paper's own neighbourhoods are (the border's 99th percentile) also moves
    `CHROMA` grey levels per unit of its own colour's distance from the paper's, in the direction
    the colourful pixels' luma leans. Luma alone loses khaki text on kraft paper, whose colours
    differ where their brightness does not: the general reader read 28 % of the hard set's khaki
    lines and 43 % of its orange ones (docs/general.md, "Colour"). Judging by the neighbourhood
    lets text through on paper whose pixel-wise colour noise hides it from a pixel's own colour,
    and keeps that noise out. A grey image, and one in the paper's colours, is unchanged."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    im = Image.fromarray(image)
    luma = np.asarray(im if im.mode == "L" else im.convert("L"))
    if not chroma or not in_colour(image):
        return luma
    ycc_im = im.convert("YCbCr")
    near = np.stack([np.asarray(c.filter(ImageFilter.BoxBlur(1)), np.float32)
                     for c in ycc_im.split()[1:]], axis=-1)  # fmt: skip
    ycc = np.asarray(ycc_im, np.float32)
    off, near_off = _colour_off(ycc[..., 1:]), _colour_off(near)
    away = np.where(near_off > np.percentile(_border(near_off), 99), off, 0.0)
    if not away.any():
        return luma
    lean = (ycc[..., 0] - np.median(_border(ycc[..., 0]))) * away
    sign = 1.0 if lean.sum() >= 0 else -1.0
    return np.clip(np.round(luma + sign * CHROMA * away), 0, 255).astype(np.uint8)


def _colour_off(colour: np.ndarray) -> np.ndarray:
    """Each pixel's distance from the paper's colour, the median of the border's (H, W, 2)."""
    return np.sqrt(((colour - np.median(_border(colour), axis=0)) ** 2).sum(-1))


def in_colour(image: np.ndarray) -> bool:
    """Whether an (H, W[, 1-4]) uint8 image's colour channels differ anywhere (alpha aside): a
    grey image has no colour contrast for `grey` to keep."""
    if image.ndim == 2 or image.shape[2] <= 2:  # grey, or grey and alpha
        return False
    rgb = image[..., :3]
    return not (rgb == rgb[..., :1]).all()


def valid_side(size: object) -> bool:
    """Whether `size` is a side `fill` and `median` take: 0 (none) or an odd number of pixels
    from 3."""
    return type(size) is int and (size == 0 or (size >= 3 and size % 2 == 1))


def fill(grey: np.ndarray, size: int) -> np.ndarray:
    """`grey` closed toward its ink by a `size` × `size` square (0: unchanged): the ink (dark on
    light paper, or light on dark) grows over gaps narrower than the square and shrinks back, so
    a dot screen's dots join into solid strokes of their own width, which the resize to 32 rows
    keeps as ink instead of blurring into grey. On the stencil scheme the general reader reads
    25.6 % of such lines instead of 18.3 %, and one fine-tune 60.1 % instead of 55.3 %
    (docs/finetune.md, "Dot screens")."""
    if size == 0:
        return grey
    darker, lighter = ImageFilter.MinFilter(size), ImageFilter.MaxFilter(size)
    steps = (lighter, darker) if _background(grey) < grey.mean() else (darker, lighter)
    im = Image.fromarray(grey)
    for step in steps:  # light ink on dark paper grows by the lighter filter
        im = im.filter(step)
    return np.asarray(im)


def median(grey: np.ndarray, size: int) -> np.ndarray:
    """`grey` with each pixel the median of its `size` × `size` square (0: unchanged): lines and
    dots thinner than half the square vanish into what lies either side of them, strokes wider
    than that keep their shape. The tiles scheme's grid of 1-pixel lines, inverting every glyph
    it crosses, goes at 5 pixels; one fine-tune then read 69.5 % of its test images instead of
    47.2 % (docs/finetune.md, "Lines drawn over")."""
    if size == 0:
        return grey
    return np.asarray(Image.fromarray(grey).filter(ImageFilter.MedianFilter(size)))


def turn(grey: np.ndarray, rows: int = 48) -> float:
    """Degrees (anticlockwise) that stand a grey image's text line upright; 0 for a line within
    `LEAST_TURN` of upright, or when no turn in `TURNS` makes its ink band `NARROWING` thinner.

    The image is measured at `rows` rows: its ink (pixels far from the border's median) is
    projected onto the rows of each turned image, and the turn whose row profile changes most
    sharply, ink rows against empty ones, is the text's (Postl's projection criterion): every
    second turn first, then the two beside the best."""
    h, w = grey.shape
    if min(h, w) < 2 or w > 64 * h:  # no line to turn, or one `to_line` squeezes anyway
        return 0.0
    small = np.asarray(
        Image.fromarray(grey).resize((max(1, round(w * rows / h)), rows), Image.Resampling.BILINEAR)
    )
    ys, xs = np.nonzero(_ink(_off_paper(small, _background(small))))
    if len(ys) < 20:
        return 0.0
    # float64: a row is a truncated product, and CPUs' kernels (BLAS, sin and cos) may differ
    # in the last bit; at float64's precision that moves a pixel across a bin far more seldom
    ink = np.stack([ys - ys.mean(), xs - xs.mean()], axis=1)  # (pixels, 2)
    reach = float(np.sqrt((ink**2).sum(axis=1)).max()) + 1  # no turned row lies further out

    def rows_of(degrees: np.ndarray) -> np.ndarray:
        rad = np.deg2rad(degrees)
        return ink @ np.stack([np.cos(rad), -np.sin(rad)])  # (pixels, turns): one BLAS call

    def sharpest(degrees: np.ndarray) -> int:
        size = int(2 * reach) + 2
        at = rows_of(degrees)
        at += reach + 0.5  # non-negative, so truncation rounds
        bins = at.astype(np.intp)
        bins += size * np.arange(len(degrees))
        profile = np.bincount(bins.ravel(), minlength=size * len(degrees))
        jumps = np.diff(profile.reshape(len(degrees), size), axis=1).astype(np.float64)
        return int(np.argmax((jumps**2).sum(axis=1)))

    coarse = TURNS[::2]
    best = coarse[sharpest(coarse)]
    near = np.clip([best - 1, best, best + 1], TURNS[0], TURNS[-1])
    best = float(near[sharpest(near)])
    if abs(best) <= LEAST_TURN:
        return 0.0
    at = rows_of(np.array([0.0, best]))
    lo, hi = len(at) // 20, len(at) - 1 - len(at) // 20
    band_upright, band_turned = np.diff(np.partition(at, [lo, hi], axis=0)[[lo, hi]], axis=0)[0]
    return best if band_upright >= NARROWING * max(band_turned, 1e-9) else 0.0


def upright(grey: np.ndarray) -> np.ndarray:
    """A grey image with its text line stood upright (`turn`) and cropped to the text (`_text`)
    with the margin it wants; the image itself when not turned."""
    angle = turn(grey)
    if not angle:
        return grey
    paper = _background(grey)
    im = Image.fromarray(grey).rotate(
        angle, Image.Resampling.BILINEAR, expand=True, fillcolor=int(paper)
    )
    stood = np.asarray(im)
    found = _text(_ink(_off_paper(stood, paper)))
    if found is None:  # no ink left at full size: read the image as it came
        return grey
    body, (top, bottom, left, right) = found
    pad = _margin(body)
    return stood[max(0, top - pad) : bottom + pad, max(0, left - pad) : right + pad]


def frame(grey: np.ndarray) -> np.ndarray:
    """A clean grey line whose text body (`_text`) comes nearer its top or bottom than an eighth
    of the body's height, with each side topped up to that margin in its paper's colour, and one
    whose text is under 1/`LOOSE` of its height cut to the text and that margin; the image itself
    otherwise: when ink reaches more than one of its corners, or less than `PAPER` of it is its
    paper's colour.

    The reader learnt text with room around it: tight crops of clean strings read 84.7 % as cut
    and 89.0 % framed. It learnt no more than that room: a word in the middle of a screenshot or
    a page, resized whole to 32 rows, is a few rows high (text-eval's `page` layout, strings on
    pages 3-6 times their height: 10.0 % as they are, 92.3 % cut to their text). Ink in the
    corners is a texture, hatching or clutter across the whole image, as on many CAPTCHAs; a
    frame there shrinks the text and sets it apart from nothing (hatched CAPTCHAs read 50 % as
    they are and 35 % framed); on captcha_images_v2, noisy text that looks tight, it changed 145
    readings of 1,040, 77 for the worse (docs/general.md, "Tight crops")."""
    if min(grey.shape) < 2:
        return grey
    paper = _background(grey)
    off = _off_paper(grey, paper)
    ink = _ink(off)
    found = _text(ink)
    if found is None:
        return grey
    (top, bottom), (box_top, box_bottom, left, right) = found
    pad = _margin((top, bottom))
    h, w = grey.shape
    loose = LOOSE * (box_bottom - box_top) < h
    if max(pad - top, pad - (h - bottom)) <= 0 and not loose:
        return grey
    ends = (slice(None, pad), slice(-pad, None))
    if sum(bool(ink[rows, cols].any()) for rows in ends for cols in ends) > 1:
        return grey
    if np.mean(off <= 12) < PAPER:
        return grey
    if loose:  # cut to the text and the margin it wants
        r0, c0 = max(0, min(box_top, top - pad)), max(0, left - pad)
        grey = grey[r0 : max(box_bottom, bottom + pad), c0 : right + pad]
        top, bottom, left, right = top - r0, bottom - r0, left - c0, right - c0
        h, w = grey.shape
    above, below = pad - top, pad - (h - bottom)
    before, after = pad - left, pad - (w - right)
    widths = [(max(0, above), max(0, below)), (max(0, before), max(0, after))]
    return np.pad(grey, widths, constant_values=round(paper))


def crop(grey: np.ndarray) -> np.ndarray:
    """The grey image's rows from the top of its text body to the bottom, with `_margin` rows
    either side where it has them; the image itself when it has no ink.

    The body is the rows holding at least `BODY` of the fullest row's ink, so specks and
    texture above and below the text do not stretch it; it then grows by the strokes leaving it
    (`_follow`), so the ascender of a lone capital among lower case stays whole. A CAPTCHA drawn
    in the middle of a taller canvas reaches the reader's 32 rows with its glyphs a third larger
    or more, which pays where strokes are thin: fine-tuned on 1,000 stencil CAPTCHAs (64 rows,
    text some 40), a reader read 69.0 % of unseen ones cut and 64.9 % as they came
    (docs/finetune.md, "Text rows")."""
    if min(grey.shape) < 2:
        return grey
    ink = _ink(_off_paper(grey, _background(grey)))
    per_row = ink.sum(axis=1)
    body = np.flatnonzero(per_row >= max(1, BODY * per_row.max()))
    if not len(body):
        return grey
    top = body[0] - _follow(ink[body[0] :: -1])
    bottom = body[-1] + 1 + _follow(ink[body[-1] :])
    pad = _margin((top, bottom))
    return grey[max(0, top - pad) : bottom + pad]


def _follow(ink: np.ndarray) -> int:
    """Rows past the first of an ink mask that its first row's ink reaches, row by row through
    ink touching the row before (a stroke leaving the text body; a speck apart from it is not)."""
    alive = ink[0]
    for rows in range(1, len(ink)):
        near = alive.copy()
        near[1:] |= alive[:-1]
        near[:-1] |= alive[1:]
        alive = ink[rows] & near
        if not alive.any():
            return rows - 1
    return len(ink) - 1


def _text(ink: np.ndarray) -> tuple[tuple[int, int], tuple[int, int, int, int]] | None:
    """The rows (top, bottom; bottom excluded) of an ink mask's text body, and the box (top,
    bottom, left, right) of all the text's ink; None when there is no ink.

    The body is the rows holding at least 5 % of the fullest row's ink, so a stray speck does not
    count; the box adds the inked rows touching them, so a lone ascender or descender stays
    whole."""
    per_row = ink.sum(axis=1)
    body = np.flatnonzero(per_row >= max(1, 0.05 * per_row.max()))
    if not len(body):
        return None
    blank = np.flatnonzero(per_row == 0)
    above, below = blank[blank < body[0]], blank[blank > body[-1]]
    top = int(above[-1] + 1) if len(above) else 0
    bottom = int(below[0]) if len(below) else len(per_row)
    cols = np.flatnonzero(ink[top:bottom].any(axis=0))
    return (int(body[0]), int(body[-1] + 1)), (top, bottom, int(cols[0]), int(cols[-1] + 1))


def _margin(body: tuple[int, int]) -> int:
    """Rows of background a text body of rows (top, bottom) wants round it: an eighth of its
    height, 2 at least."""
    return max(2, -(-(body[1] - body[0]) // 8))


def _border(image: np.ndarray) -> np.ndarray:
    """The pixels of the image's four edges (corners twice)."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def _background(grey: np.ndarray) -> float:
    """The median of the image's border: the likeliest paper colour."""
    return float(np.median(_border(grey)))


def _off_paper(grey: np.ndarray, paper: float) -> np.ndarray:
    """How far each pixel's grey is from `paper`."""
    return np.abs(grey.astype(np.int16) - paper)


def _ink(off: np.ndarray) -> np.ndarray:
    """Pixels far from the paper (`_off_paper`): by over 24 grey levels and `INK` of the
    largest difference."""
    return off > max(24.0, INK * float(off.max()))


def view(lines: np.ndarray, across: float, down: float) -> np.ndarray:
    """(N, H, W, 1) lines (`to_line`) with their text scaled by `down` (aspect kept, centred in
    rows of background) and then by `across` in width; the padding stays the line's own."""
    if not (0 < down <= 1 and across > 0):
        raise ValueError(
            f"a view shrinks (0 < down <= 1) and scales (across > 0), got {down}, {across}"
        )
    _, h, width, _ = lines.shape
    rows = max(1, round(h * down))
    top = (h - rows) // 2
    out = np.empty_like(lines)
    for i, (line, w) in enumerate(zip(lines[..., 0], text_widths(lines), strict=True)):
        if w < width:
            out[i] = line[0, -1]
        else:
            out[i] = _background(line)
        cols = max(1, min(width, round(w * across * down)))
        text = Image.fromarray(np.ascontiguousarray(line[:, :w]))
        out[i, top : top + rows, :cols, 0] = np.asarray(
            text.resize((cols, rows), Image.Resampling.BILINEAR)
        )
    return out


def from_column(lines: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(N, H, W, 1) lines, each begun at its column of `starts` (0 <= start < W; the columns
    before it cut off) and topped up on the right with its last column: `to_line`'s padding, or
    the text's last column for a line it fills."""
    if len(starts) and not (starts.min() >= 0 and starts.max() < lines.shape[2]):
        raise ValueError(f"a line begins at a column in 0..{lines.shape[2] - 1}")
    out = np.empty_like(lines)
    for i, start in enumerate(starts.tolist()):
        kept = lines.shape[2] - start
        out[i, :, :kept] = lines[i, :, start:]
        out[i, :, kept:] = lines[i, :, -1:]
    return out


def text_widths(lines: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Columns of each (N, H, W, 1) line before `to_line`'s flat padding on the right (all W
    when the last column is not one colour: the text reaches the edge). Works through `chunk`
    lines at a time, so its temporaries stay small whatever N."""
    out = np.empty(len(lines), np.int64)
    for s in range(0, len(lines), chunk):
        grey = lines[s : s + chunk, :, :, 0]
        differs = (grey != grey[:, :, -1:]).any(axis=1)  # (n, W): unlike the last column
        padded = (grey[:, :, -1] == grey[:, :1, -1]).all(axis=1)
        width = np.where(differs.any(1), lines.shape[2] - np.argmax(differs[:, ::-1], 1), 1)
        out[s : s + chunk] = np.where(padded, width, lines.shape[2])
    return out


def read_widths(lines: np.ndarray) -> np.ndarray:
    """The columns each (N, H, W, 1) line is read at: its text plus `MARGIN`, rounded up to a
    multiple of `BUCKET`, at most W.

    Most text fills a fraction of the padded line (a 200 × 50 CAPTCHA takes 128 of 1,024
    columns), and the CNN's and LSTM's cost is their width, so each line is read cut, for
    readings within about a point of the whole line's (docs/general.md). The width depends on the
    line alone, never on its batch: an image reads the same in any company.
    """
    return np.minimum(lines.shape[2], -(-(text_widths(lines) + MARGIN) // BUCKET) * BUCKET)


def width_buckets(lines: np.ndarray, batch_size: int) -> list[tuple[np.ndarray, int]]:
    """Groups of at most `batch_size` (N, H, W, 1) lines of one reading width (`read_widths`),
    each with that width."""
    cols = read_widths(lines)
    groups = []
    for width in np.unique(cols):
        rows = np.flatnonzero(cols == width)
        groups += [(rows[s : s + batch_size], int(width)) for s in range(0, len(rows), batch_size)]
    return groups


def read_in_buckets(
    lines: np.ndarray, read: Callable[[np.ndarray], Sequence[T]], batch_size: int = 64
) -> list[T]:
    """`read` (cut lines (n, H, w, 1) → one result per line) applied bucket by bucket
    (`width_buckets`), the results back in the order of `lines`."""
    results: dict[int, T] = {}
    for rows, cols in width_buckets(lines, batch_size):
        results.update(zip(rows.tolist(), read(lines[rows, :, :cols]), strict=True))
    return [results[i] for i in range(len(lines))]
