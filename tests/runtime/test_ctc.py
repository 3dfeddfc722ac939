"""CTC decoding told what the text may be: only some characters, so many of them."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.runtime.ctc import ctc_constrained, ctc_greedy

A, B, C = 4, 5, 6  # tokens of 'a', 'b', 'c' (0 is the blank, 1-3 the other specials)


def columns(*rows: dict[int, float], vocab: int = 7) -> np.ndarray:
    """(1, T, V) probabilities: each column's named tokens, the rest shared evenly."""
    probs = np.empty((1, len(rows), vocab), np.float32)
    for t, row in enumerate(rows):
        rest = (1 - sum(row.values())) / (vocab - len(row))
        probs[0, t] = rest
        for tok, p in row.items():
            probs[0, t, tok] = p
    return probs


def spelt(chars: list[tuple[int, float]]) -> list[int]:
    return [tok for tok, _ in chars]


def test_with_every_token_and_any_length_it_is_the_greedy_path() -> None:
    probs = np.random.default_rng(0).dirichlet(np.full(9, 0.3), size=(30, 24)).astype(np.float32)
    probs[:, ::3, 0] += 1.0  # blanks between characters, as a CTC model writes them
    probs[..., 1:4] = 0.0  # the specials other than the blank are never written
    probs /= probs.sum(-1, keepdims=True)
    every, greedy = np.arange(4, 9), ctc_greedy(probs)
    assert ctc_constrained(probs, every) == greedy
    assert ctc_constrained(probs, every, (0, 24)) == greedy
    assert min(len(g) for g in greedy) > 0 and max(len(g) for g in greedy) < 24


def test_a_length_drops_the_least_likely_extra_character() -> None:
    # A stroke read as 'c' before "aba": greedily four characters, told three, the stroke goes.
    probs = columns({C: 0.5, 0: 0.4}, {A: 0.9}, {0: 0.9}, {B: 0.8}, {0: 0.9}, {A: 0.9})
    assert spelt(ctc_greedy(probs)[0]) == [C, A, B, A]
    (chars,) = ctc_constrained(probs, np.array([A, B, C]), (3, 3))
    assert spelt(chars) == [A, B, A]
    assert chars[1][1] == pytest.approx(0.8)  # each character keeps its column's probability
    assert spelt(ctc_constrained(probs, np.array([A, B, C]), (3, 5))[0]) == [C, A, B, A]


def test_a_length_can_add_a_character_greedy_reading_missed() -> None:
    # 'b' is second best in its column, under a blank: told there are three, it is read.
    probs = columns({A: 0.9}, {0: 0.5, B: 0.4}, {C: 0.9})
    assert spelt(ctc_greedy(probs)[0]) == [A, C]
    assert spelt(ctc_constrained(probs, np.array([A, B, C]), (3, 3))[0]) == [A, B, C]


def test_a_charset_takes_the_best_allowed_character_of_each_column() -> None:
    probs = columns({C: 0.6, A: 0.3}, {0: 0.9}, {B: 0.9})
    assert spelt(ctc_constrained(probs, np.array([A, B]))[0]) == [A, B]
    assert spelt(ctc_constrained(probs, np.array([A, B]), (2, 2))[0]) == [A, B]


def test_a_doubled_letter_needs_a_blank_between_and_an_impossible_length_reads_nothing() -> None:
    probs = columns({A: 0.9}, {A: 0.9}, {A: 0.9})  # greedily one 'a' over three columns
    assert spelt(ctc_greedy(probs)[0]) == [A]
    assert spelt(ctc_constrained(probs, np.array([A]), (2, 2))[0]) == [A, A]  # a _ a
    assert ctc_constrained(probs, np.array([A]), (3, 3)) == [[]]  # "aaa" needs five columns


def test_repeated_or_blank_allowed_tokens_change_nothing_and_none_is_an_error() -> None:
    probs = columns({A: 0.9}, {A: 0.9}, {0: 0.9}, {B: 0.9})
    once = ctc_constrained(probs, np.array([A, B]), (2, 3))
    assert ctc_constrained(probs, np.array([A, A, B, 0]), (2, 3)) == once
    assert spelt(once[0]) == [A, B]  # 'a' over two columns is one 'a', repeated token or not
    with pytest.raises(ValueError, match="at least one"):
        ctc_constrained(probs, np.array([0]), (1, 2))


def _every_labelling(probs: np.ndarray) -> dict[tuple[int, ...], float]:
    """Each labelling's probability summed over every column path that spells it (brute force)."""
    import itertools

    total: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        spelt_, prev = [], -1
        for tok in path:
            if tok and tok != prev:
                spelt_.append(tok)
            prev = tok
        p = float(np.prod(probs[np.arange(len(path)), path]))
        total[tuple(spelt_)] = total.get(tuple(spelt_), 0.0) + p
    return total


def test_beam_search_ranks_labellings_by_their_summed_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ocrlab.runtime import ctc

    monkeypatch.setattr(ctc, "BEAM_FLOOR", 0.0)  # every token, so it can match brute force
    probs = np.random.default_rng(0).dirichlet(np.full(5, 0.6), size=5)
    exact = sorted(_every_labelling(probs).items(), key=lambda item: -item[1])
    every = np.arange(1, 5)
    got = ctc.ctc_beam(probs, 6, every, width=10_000)
    nonempty = [(t, p) for t, p in exact if t][:6]
    assert [p for _, p in got] == pytest.approx([p for _, p in nonempty])
    assert [t for t, _ in got] == [t for t, _ in nonempty]
    two = [(t, p) for t, p in exact if len(t) == 2 and set(t) <= {1, 3}][:3]
    told = ctc.ctc_beam(probs, 3, np.array([1, 3]), (2, 2), 10_000)
    assert [t for t, _ in told] == [t for t, _ in two]
    assert [p for _, p in told] == pytest.approx([p for _, p in two])


def test_beam_search_told_a_length_finds_it_in_a_line_read_short() -> None:
    """40 columns spelling 4 characters, told 5 or 6: short prefixes must not fill the beam, nor
    the extra character's unlikely tokens be skipped (the best 5-character texts, by brute
    force's reasoning: one more of the line's own characters where it is least unlikely)."""
    from ocrlab.runtime import ctc

    probs = np.full((40, 8), 1e-5)
    probs[:, 0] = 1.0
    for k, tok in enumerate((4, 5, 6, 7)):
        probs[5 + 10 * k, 0], probs[5 + 10 * k, tok] = 0.01, 0.99
    probs[20, 0], probs[20, 3] = 0.99, 0.01  # one column slightly doubts its blank: a 3 there
    probs /= probs.sum(1, keepdims=True)
    (best, p), *_ = ctc.ctc_beam(probs, 3, np.arange(3, 8), (5, 6))
    assert best == (4, 5, 3, 6, 7) and p > 0
    assert ctc.ctc_beam(probs, 3, np.arange(3, 8), (41, 41)) == []  # more than it has columns


def test_beam_search_keeps_its_ranking_where_probabilities_underflow() -> None:
    from ocrlab.runtime import ctc

    flat = np.full((250, 40), 1 / 40)  # a labelling's probability is about 0.05 ** 250
    got = ctc.ctc_beam(flat, 3, np.arange(1, 40))
    assert len(got) == 3 and got[0][1] >= got[1][1] >= got[2][1]


def test_a_line_models_alternatives_follow_its_reading() -> None:
    from ocrlab.charset import Charset
    from ocrlab.read.hint import Hint
    from ocrlab.read.predictor import readings_from_columns

    probs = columns({A: 0.6, C: 0.35}, {0: 0.9}, {B: 0.7, C: 0.25})  # 'ab', 'cb', 'ac', ...
    (one,) = readings_from_columns(probs, Charset("abc"))  # greedy: no alternative
    assert one.text == "ab" and one.topk == [("ab", one.confidence)]
    (three,) = readings_from_columns(probs, Charset("abc"), top_k=3)
    assert three.text == "ab" and [t for t, _ in three.topk] == ["ab", "cb", "ac"]
    assert three.topk[1][1] == pytest.approx(0.35 * 0.9 * 0.7, rel=0.05)
    (told,) = readings_from_columns(probs, Charset("abc"), Hint.parse("bc"), top_k=3)
    assert told.text == "cb" and all(set(t) <= {"b", "c"} for t, _ in told.topk)
