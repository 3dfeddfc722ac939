"""Metrics: hand-computed cases, tie rules, shape errors, and edit-distance properties."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.metrics import (
    accuracy,
    character_error_rate,
    confusion_matrix,
    edit_distance,
    exact_match,
    per_class_accuracy,
    top_k_accuracy,
)
from ocrlab.rng import make_rng


def test_accuracy_by_hand() -> None:
    assert accuracy([0, 1, 2, 2], [0, 2, 2, 1]) == 0.5
    assert accuracy(np.array([3]), np.array([3])) == 1.0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 1], [0], "2 labels but y_pred has 1"),
        ([[0, 1]], [[0, 1]], "must be 1-D"),
        ([0.0, 1.0], [0, 1], "must be integers"),
        ([], [], "zero samples"),
    ],
)
def test_accuracy_rejects_bad_input(y_true: list[int], y_pred: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        accuracy(y_true, y_pred)


def test_top_k_by_hand() -> None:
    scores = np.array(
        [
            [0.1, 0.6, 0.3],  # true 1: rank 0
            [0.5, 0.2, 0.3],  # true 2: rank 1
            [0.5, 0.3, 0.2],  # true 2: rank 2
        ]
    )
    labels = [1, 2, 2]
    assert top_k_accuracy(scores, labels, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(scores, labels, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(scores, labels, 3) == 1.0
    assert top_k_accuracy(scores, labels, 1) == accuracy(labels, scores.argmax(axis=1))


def test_top_k_ties_go_to_the_lower_class_index() -> None:
    scores = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.2, 0.4, 0.4]])
    # Row 0: class 0 wins the tie; row 1: class 1 loses it to class 0; row 2: class 2 loses to 1.
    assert top_k_accuracy(scores, [0, 1, 2], 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(scores, [0, 1, 2], 2) == 1.0


def test_top_k_matches_a_stable_sort_on_random_scores() -> None:
    rng = make_rng(3, 0)
    scores = rng.integers(0, 4, size=(200, 6)).astype(np.float64)  # many ties
    labels = rng.integers(0, 6, size=200)
    order = np.argsort(-scores, axis=1, kind="stable")
    for k in range(1, 7):
        expected = np.mean([labels[i] in order[i, :k] for i in range(200)])
        assert top_k_accuracy(scores, labels, k) == pytest.approx(expected)


def test_top_k_rejects_bad_input() -> None:
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"k must lie in 1\.\.3"):
        top_k_accuracy(scores, [0, 1], 0)
    with pytest.raises(ValueError, match=r"k must lie in 1\.\.3"):
        top_k_accuracy(scores, [0, 1], 4)
    with pytest.raises(ValueError, match="N = 3 labels"):
        top_k_accuracy(scores, [0, 1, 2], 1)
    with pytest.raises(ValueError, match=r"y_true must lie in 0\.\.2"):
        top_k_accuracy(scores, [0, 3], 1)
    with pytest.raises(ValueError, match="NaN"):
        top_k_accuracy(np.array([[np.nan, 1.0]]), [0], 1)


def test_confusion_matrix_by_hand() -> None:
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 4)
    expected = [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)
    with pytest.raises(ValueError, match=r"y_pred must lie in 0\.\.2"):
        confusion_matrix([0, 1], [0, 3], 3)
    with pytest.raises(ValueError, match="3 labels but y_pred has 2"):
        confusion_matrix([0, 1, 1], [0, 1], 3)


def test_per_class_accuracy_marks_absent_classes_nan() -> None:
    acc = per_class_accuracy([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 4)
    np.testing.assert_allclose(acc[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(acc[3])


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("abc", "abc", 0),
        ("ab", "ba", 2),
    ],
)
def test_edit_distance_by_hand(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


def test_edit_distance_is_a_metric_on_random_strings() -> None:
    rng = make_rng(7, 0)
    alphabet = np.array(list("abcd"))
    words = ["".join(rng.choice(alphabet, size=rng.integers(0, 9))) for _ in range(40)]
    for i in range(0, len(words), 2):
        a, b, c = words[i], words[i + 1], words[(i + 7) % len(words)]
        ab = edit_distance(a, b)
        assert edit_distance(a, a) == 0
        assert ab == edit_distance(b, a)
        assert (ab == 0) == (a == b)
        assert abs(len(a) - len(b)) <= ab <= max(len(a), len(b))
        assert edit_distance(a, c) <= ab + edit_distance(b, c)


def test_character_error_rate_by_hand() -> None:
    assert character_error_rate(["kitten", "abcd"], ["sitting", "abcd"]) == pytest.approx(3 / 10)
    assert character_error_rate(["ab", ""], ["ab", "xyz"]) == pytest.approx(3 / 2)
    assert character_error_rate([""], [""]) == 0.0
    assert character_error_rate(["", ""], ["", "x"]) == 1.0


def test_exact_match_and_text_input_errors() -> None:
    refs, hyps = ["Hello", "abc", "x"], ["hello", "abc", "y"]
    assert exact_match(refs, hyps) == pytest.approx(1 / 3)
    assert exact_match(refs, hyps, case_sensitive=False) == pytest.approx(2 / 3)
    assert exact_match(["Straße"], ["STRASSE"], case_sensitive=False) == 1.0
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        exact_match(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no strings"):
        character_error_rate([], [])
    with pytest.raises(ValueError, match="lists of strings"):
        character_error_rate("abc", "abd")
