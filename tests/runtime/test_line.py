"""The general reader's line preprocessing (turned lines stood upright, tight crops framed) and its
CTC decoding."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ocrlab.runtime import line
from ocrlab.runtime.ctc import ctc_greedy
from ocrlab.runtime.line import (
    BUCKET,
    HEIGHT,
    WIDTH,
    LineSteps,
    crop,
    fill,
    frame,
    grey,
    in_colour,
    line_width,
    median,
    read_in_buckets,
    text_widths,
    to_line,
    turn,
    upright,
    valid_side,
    width_buckets,
)


def test_the_aspect_ratio_is_kept_and_the_rest_is_background() -> None:
    image = np.full((20, 60, 3), 230, np.uint8)
    image[5:15, 10:50] = 10  # a dark bar on light paper
    line = to_line(image)
    assert line.shape == (HEIGHT, WIDTH) and line.dtype == np.uint8
    w = line_width(20, 60)
    assert w == 96  # 60 × 32 / 20: not stretched to the full width
    assert line[:, :w].min() < 50  # the bar is there
    assert (line[:, w:] == 230).all()  # padded with the border's colour, not black


@pytest.mark.parametrize("shape", [(1, 1), (1, 4000, 3), (300, 2, 1), (50, 200, 4), (32, 256, 3)])
def test_any_shape_and_channel_count_gives_one_line(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    assert to_line(image).shape == (HEIGHT, WIDTH)


def test_a_long_line_keeps_its_shape_and_a_wider_one_is_squeezed() -> None:
    assert line_width(32, 100) == 100
    assert line_width(32, 700) == 700  # some 40 characters: not squeezed into 256 columns
    assert line_width(10, 1000) == WIDTH


def test_ctc_greedy_merges_repeats_drops_blanks_and_keeps_doubled_letters() -> None:
    # columns: a a _ a b b _ _ ; vocab: 0 = blank, 4 = 'a', 5 = 'b'
    best = [4, 4, 0, 4, 5, 5, 0, 0]
    probs = np.full((1, len(best), 6), 0.01, np.float32)
    for t, k in enumerate(best):
        probs[0, t, k] = 0.5 + 0.05 * t
    (chars,) = ctc_greedy(probs)
    assert [tok for tok, _ in chars] == [4, 4, 5]  # "aab": the blank separates the two a's
    assert chars[0][1] == pytest.approx(0.55) and chars[2][1] == pytest.approx(0.75)
    assert ctc_greedy(np.zeros((2, 3, 6), np.float32)) == [[], []]  # all blank


def _lines(widths: list[int]) -> np.ndarray:
    """(N, HEIGHT, WIDTH, 1) lines with noisy text `widths` columns wide on flat paper."""
    rng = np.random.default_rng(1)
    lines = np.full((len(widths), HEIGHT, WIDTH, 1), 200, np.uint8)
    for one, w in zip(lines, widths, strict=True):
        one[:, :w, 0] = rng.integers(0, 256, (HEIGHT, w))
    return lines


def test_text_width_is_where_the_flat_padding_begins() -> None:
    lines = _lines([1, 40, 200, WIDTH])
    lines[0, :, 0] = 200  # a line that is all paper
    assert text_widths(lines).tolist() == [1, 40, 200, WIDTH]


def test_each_line_is_read_in_its_own_bucket_whatever_its_batch() -> None:
    lines = _lines([40, 100, 250, 45, 110, 60, 10, WIDTH - 8])
    groups = width_buckets(lines, batch_size=2)
    seen = sorted(i for rows, _ in groups for i in rows.tolist())
    assert seen == list(range(len(lines)))  # every line once
    assert all(len(rows) <= 2 and cols % BUCKET == 0 for rows, cols in groups)
    cols = {i: c for rows, c in groups for i in rows.tolist()}
    # text + MARGIN, rounded up, at most the whole line
    assert cols == {0: 64, 1: 128, 2: 288, 3: 64, 4: 128, 5: 96, 6: 32, 7: WIDTH}
    alone = {i: width_buckets(lines[i : i + 1], 64)[0][1] for i in range(len(lines))}
    assert alone == cols  # the company a line keeps never changes its width


def test_results_of_the_buckets_come_back_in_the_lines_order() -> None:
    lines = _lines([200, 10, 100, 40, WIDTH])
    calls: list[int] = []

    def read(cut: np.ndarray) -> list[tuple[int, int]]:
        calls.append(len(cut))
        return [(cut.shape[2], int(text_widths(cut[i : i + 1])[0])) for i in range(len(cut))]

    got = read_in_buckets(lines, read, batch_size=1)
    assert [width for _, width in got] == [200, 10, 100, 40, WIDTH]  # each line's own result
    assert [cols for cols, _ in got] == [224, 32, 128, 64, WIDTH]
    assert calls == [1] * 5 and read_in_buckets(lines[:0], read) == []


def test_text_widths_are_the_same_in_chunks() -> None:
    lines = _lines([1, 40, 200, WIDTH, 7, 300, 90])
    assert text_widths(lines, chunk=2).tolist() == text_widths(lines).tolist()
    assert text_widths(lines[:0]).tolist() == []


def _tight() -> np.ndarray:
    """A tight crop of a clean string in a reserved font, grey (a text-eval sample)."""
    from ocrlab.synth.text_eval import TextEval, TextEvalConfig, eval_fonts

    cfg = TextEvalConfig(count=1, min_length=8, max_length=9, layouts=("tight",), seed=3)
    image, _ = TextEval(cfg, tuple(eval_fonts(cfg.chars)))(0)
    return image[..., 0]


def _turned(grey: np.ndarray, degrees: float) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(grey)
    paper = int(np.median(np.concatenate([grey[0], grey[-1]])))
    return np.asarray(im.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=paper))


@pytest.mark.parametrize("degrees", [-15.0, -7.0, 6.0, 12.0])
def test_a_turned_line_is_measured_and_stood_upright_on_its_text(degrees: float) -> None:
    tight = _tight()
    turned = _turned(tight, degrees)
    assert abs(turn(turned) + degrees) <= 1.0  # the turn that undoes it
    stood = upright(turned)
    assert abs(stood.shape[0] - tight.shape[0]) <= 0.3 * tight.shape[0] < turned.shape[0] / 1.3
    # read at the upright crop's scale: its text spans no more of the line's columns than the
    # bare crop's, and as many as the crop's with upright's margin (an eighth of its height)
    framed = np.pad(tight, tight.shape[0] // 8, constant_values=int(np.median(tight[0])))
    a, bare, least = (text_widths(to_line(x)[None, ..., None])[0] for x in (stood, tight, framed))
    assert 0.95 * least <= a <= bare + 1  # a column of resampling: Debian 13's reserved fonts


@pytest.mark.parametrize("degrees", [0.0, 2.0, -2.0])
def test_an_upright_or_slightly_turned_line_is_read_as_it_is(degrees: float) -> None:
    turned = _turned(_tight(), degrees) if degrees else _tight()
    assert turn(turned) == 0.0
    assert upright(turned) is turned


@pytest.mark.parametrize("degrees", [2.7, -2.9])
def test_a_line_turned_under_three_and_a_half_degrees_is_left_alone_by_the_least_turn(
    degrees: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line, "NARROWING", 1.0)  # the least turn alone decides
    assert turn(_turned(_tight(), degrees)) == 0.0  # measured as 3 degrees on the grid


def test_a_lone_ascender_of_a_long_turned_line_stays_inside_the_crop() -> None:
    paper = 230
    grey = np.full((40, 620), paper, np.uint8)
    grey[15:31, 10:560:6] = grey[15:31, 11:560:6] = 20  # a long run of short strokes: "mmmm..."
    grey[2:31, 580:584] = 20  # one tall stroke, its top a twentieth of the busiest row's ink
    stood = upright(_turned(grey, 10.0))
    ink = np.abs(stood.astype(np.int16) - paper) > 60
    assert stood.shape[0] >= 29 and not ink[0].any() and not ink[-1].any()


def test_a_curve_striking_through_upright_text_does_not_turn_it() -> None:
    from PIL import Image, ImageDraw

    text = _tight()
    canvas = np.full((text.shape[0] + 30, text.shape[1] + 40), 235, np.uint8)
    faint = 235 - (235 - text.astype(np.int16)) // 3  # faint text: a third of its contrast
    canvas[15 : 15 + text.shape[0], 20 : 20 + text.shape[1]] = faint.astype(np.uint8)
    im = Image.fromarray(canvas)
    h, w = canvas.shape
    ImageDraw.Draw(im).line([(0, h - 8), (w, 8)], fill=0, width=3)  # dark, across at ~12°
    struck = np.asarray(im)
    assert turn(struck) == 0.0


def test_a_tight_crop_is_framed_as_if_cut_with_room_round_it() -> None:
    tight = _tight()  # 0-3 pixels of paper round the ink
    framed = frame(tight)
    paper = int(np.median(tight[0]))
    ink_rows = np.flatnonzero((np.abs(framed.astype(int) - paper) > 60).any(axis=1))
    body = tight.shape[0] - 6  # at least
    assert ink_rows[0] >= body // 8 and framed.shape[0] - 1 - ink_rows[-1] >= body // 8
    assert framed[0].tolist() == [paper] * framed.shape[1]  # the frame is the paper's colour
    assert (to_line(tight) == to_line(framed)).all()  # to_line frames it the same way
    assert frame(framed) is framed  # and leaves a line with room round it alone


def test_text_with_room_a_page_round_it_is_cut_to_its_text_and_framed() -> None:
    tight = _tight()
    h, w = tight.shape
    paper = int(np.median(tight[0]))
    page = np.full((6 * h, w + 5 * h), paper, np.uint8)
    page[3 * h : 4 * h, 4 * h : 4 * h + w] = tight  # below the middle, right of it
    assert (frame(page) == frame(tight)).all()  # read as the text cut out with its frame
    assert (to_line(page) == to_line(tight)).all()
    roomy = page[5 * h // 2 : 9 * h // 2]  # half the height: room the reader learnt, left alone
    assert frame(roomy) is roomy
    specked = page.copy()
    specked[:3, :3] = specked[-3:, -3:] = 0  # ink in two corners: a CAPTCHA's clutter
    assert frame(specked) is specked


def test_a_line_with_ink_in_its_corners_is_not_framed() -> None:
    tight = _tight()
    hatched = tight.copy()
    h, w = hatched.shape
    for x in range(-h, w, 6):  # diagonal hatching over the whole image, text touching its edges
        for y in range(h):
            if 0 <= x + y < w:
                hatched[y, x + y] = 40
    assert frame(hatched) is hatched
    assert frame(tight) is not tight


def test_a_tight_line_on_noisy_paper_is_not_framed() -> None:
    tight = _tight()
    y, x = np.indices(tight.shape)
    grain = ((x + y) % 3 - 1) * 18  # two pixels in three 18 grey levels off: not ink, not paper
    noisy = np.clip(tight + grain, 0, 255).astype(np.uint8)
    assert frame(noisy) is noisy


def test_blank_tiny_empty_and_needle_thin_images_are_not_turned() -> None:
    assert turn(np.full((40, 120), 200, np.uint8)) == 0.0
    assert turn(np.zeros((1, 1), np.uint8)) == 0.0
    assert turn(np.zeros((0, 5), np.uint8)) == 0.0  # was a division by zero
    for image in (np.full((40, 120), 200, np.uint8), np.zeros((1, 1), np.uint8)):
        assert frame(image) is image
    assert to_line(np.zeros((0, 5), np.uint8)).shape == (HEIGHT, WIDTH)
    # a 1 x 4000 strip would be measured at 48 x 192,000 pixels: it is left alone instead
    thin = np.random.default_rng(0).integers(0, 256, (1, 4000), dtype=np.uint8)
    assert turn(thin) == 0.0


@pytest.mark.parametrize("negative", [False, True])
def test_fill_closes_a_dot_screen_into_solid_ink_and_leaves_the_paper(negative: bool) -> None:
    """A bar drawn as a screen of dots two pixels apart turns solid, as wide as it was, whether
    the ink is dark on light paper or light on dark; the paper round it stays paper."""
    ink, paper = (230, 20) if negative else (20, 230)
    image = np.full((40, 80), paper, np.uint8)
    image[10:30:2, 10:70:2] = ink  # the dots: every other pixel of rows 10-28, columns 10-68
    closed = fill(image, 3)
    assert (closed[10:29, 10:69] == ink).all()  # the gaps between the dots are ink now
    outside = np.ones(image.shape, bool)
    outside[10:29, 10:69] = False
    assert (closed[outside] == paper).all()  # and nothing beyond them
    assert fill(image, 0) is image
    dotted, solid = (to_line(image, steps=LineSteps(False, size)) for size in (0, 3))
    assert abs(int(solid[16, 30]) - ink) < abs(int(dotted[16, 30]) - ink)  # 32 rows keep ink


def test_crop_cuts_a_tall_canvas_to_its_text_rows_whatever_specks_lie_above() -> None:
    """Text 20 rows high in the middle of 80, a speck near the top: the crop keeps the text and
    a margin of an eighth of it (3 rows) either side, and no more, so the line shows the text
    over three times the rows; a stroke leaving the text (a lone capital's ascender) stays whole;
    a canvas without ink, or one the text fills, is left whole."""
    image = np.full((80, 120), 230, np.uint8)
    image[30:50, 10:110:3] = 20  # vertical strokes: the text body, rows 30-49
    image[5:8, 60:63] = 20  # a speck
    assert np.array_equal(crop(image), image[27:53])
    tall = image.copy()
    tall[20:30, 41] = 20  # an ascender leaving the body, slanting one column
    tall[16:20, 42] = 20
    assert np.array_equal(crop(tall), tall[11:55])  # kept whole, margins of 5 rows (34 / 8)
    blank = np.full((40, 40), 200, np.uint8)
    assert crop(blank) is blank
    assert np.array_equal(crop(image[30:50]), image[30:50])  # nothing to cut: margins not added
    inked = [int((to_line(image, steps=LineSteps(False, crop=c)) < 100).any(1).sum())
             for c in (False, True)]  # fmt: skip
    assert inked[1] >= 3 * inked[0]


def test_median_wipes_a_grid_of_thin_lines_and_keeps_the_strokes_it_crosses() -> None:
    """A thick dark stroke on light paper under a grid of 1-pixel lines that invert what they
    cross (the tiles scheme): a 5-pixel median leaves paper and stroke as if no grid were drawn
    (but for the stroke's outline, which it rounds), and every line model that learnt with it
    prepares its images so (`to_line`)."""
    clean = np.full((40, 80), 230, np.uint8)
    clean[10:30, 20:28] = 20  # the stroke, 8 pixels wide
    gridded = clean.copy()
    gridded[3::7, :] = 255 - gridded[3::7, :]
    gridded[:, 3::7] = 255 - gridded[:, 3::7]
    away = np.ones(clean.shape, bool)  # further than 2 pixels from the stroke's outline
    away[8:32, 18:30] = False
    away[13:27, 23:25] = True
    smoothed = median(gridded, 5)
    assert np.array_equal(smoothed[away], clean[away])
    assert (smoothed[~away] != clean[~away]).mean() < 0.5
    assert median(gridded, 0) is gridded
    lines = [
        to_line(im, steps=LineSteps(False, median=m)) for im, m in ((gridded, 5), (gridded, 0))
    ]
    assert np.array_equal(lines[0], to_line(smoothed, steps=LineSteps(False)))
    assert not np.array_equal(lines[1], lines[0])


def test_fill_and_median_take_no_square_they_cannot_centre() -> None:
    assert [valid_side(v) for v in (0, 3, 5, 9)] == [True] * 4
    assert not any(valid_side(v) for v in (1, 2, 4, -3, 3.0, True, "3", None))


def test_grey_keeps_the_colour_contrast_of_text_as_bright_as_its_paper() -> None:
    """Khaki ink on kraft paper: luma leaves a few grey levels between them, `chroma` adds the
    colours' distance, darkening the ink as its luma leans; a grey image is luma either way."""
    paper, ink = (196, 150, 96), (150, 160, 110)  # luma 158 and 153
    image = np.empty((30, 90, 3), np.uint8)
    image[:] = paper
    image[10:20, 10:80] = ink
    luma = grey(image)
    assert np.array_equal(luma, np.asarray(Image.fromarray(image).convert("L")))
    kept = grey(image, chroma=True)
    assert kept[0, 0] == luma[0, 0]  # the paper stays
    assert int(luma[0, 0]) - int(luma[15, 40]) < 8 and int(kept[0, 0]) - int(kept[15, 40]) > 60
    lighter = image.copy()
    lighter[10:20, 10:80] = (160, 175, 120)  # luma 168: lighter than the paper
    assert int(grey(lighter, chroma=True)[15, 40]) - int(grey(lighter)[15, 40]) > 50
    plain = np.repeat(luma[..., None], 3, axis=2)
    assert np.array_equal(grey(plain, chroma=True), luma)
    assert np.array_equal(to_line(image, steps=LineSteps(chroma=False)), to_line(image))
    assert not np.array_equal(to_line(image, steps=LineSteps(chroma=True)), to_line(image))


def test_grey_keeps_the_colour_contrast_of_text_on_paper_with_colour_noise() -> None:
    """Khaki on kraft with pixel-wise noise (the hard set's, up to 40 levels a channel): a pixel's
    own colour is often no further from the paper's than the paper's noise, so the kept contrast
    is judged by each pixel's 3 × 3 neighbourhood, where the noise averages out (judged by the
    pixel, the ink kept 8 grey levels of contrast here), and the noisy paper stays as it is."""
    image = np.empty((40, 120, 3), np.float32)
    image[:] = (196, 150, 96)
    image[12:28, 10:110] = (150, 160, 110)
    noisy = np.clip(image + np.random.default_rng(0).normal(0, 30, image.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    luma, kept = grey(noisy).astype(float), grey(noisy, chroma=True).astype(float)
    paper_rows = np.r_[0:10, 30:40]
    assert luma[paper_rows].mean() - luma[14:26, 12:108].mean() < 8
    assert kept[paper_rows].mean() - kept[14:26, 12:108].mean() > 50
    assert np.abs(kept[paper_rows] - luma[paper_rows]).mean() < 1


def test_an_image_is_in_colour_when_its_colour_channels_differ_whatever_its_alpha() -> None:
    grey_rgb = np.full((4, 6, 3), 120, np.uint8)
    assert not in_colour(grey_rgb[..., 0]) and not in_colour(grey_rgb[..., :1])
    assert not in_colour(grey_rgb)
    with_alpha = np.concatenate([grey_rgb, np.full((4, 6, 1), 7, np.uint8)], axis=2)
    assert not in_colour(with_alpha) and not in_colour(with_alpha[..., 2:])  # RGBA, grey + alpha
    grey_rgb[2, 3, 1] = 121
    assert in_colour(grey_rgb) and in_colour(np.concatenate([grey_rgb, with_alpha[..., 3:]], 2))
