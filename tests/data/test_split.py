from __future__ import annotations

import numpy as np
import pytest

from ocrlab.data.split import group_split, random_split, stratified_split
from ocrlab.rng import make_rng


def test_random_split_is_seeded_disjoint_and_complete() -> None:
    a = random_split(100, 0.1, make_rng(0))
    b = random_split(100, 0.1, make_rng(0))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    train, test = a
    assert len(test) == 10 and not set(train) & set(test) and len(train) + len(test) == 100
    assert not np.array_equal(random_split(100, 0.1, make_rng(1))[1], test)


def test_stratified_split_keeps_class_proportions() -> None:
    labels = np.repeat(np.arange(5), 20)
    train, test = stratified_split(labels, 0.2, make_rng(3))
    assert np.bincount(labels[test]).tolist() == [4] * 5
    assert len(train) + len(test) == 100 and not set(train) & set(test)


def test_group_split_never_shares_a_group() -> None:
    groups = [f"w{i % 30}" for i in range(300)]
    train, test = group_split(groups, 0.1, make_rng(0))
    train_words = {groups[i] for i in train}
    test_words = {groups[i] for i in test}
    assert len(test_words) == 3 and not train_words & test_words


@pytest.mark.parametrize(("n", "fraction"), [(1, 0.1), (10, 0.0), (10, 1.0)])
def test_bad_split_arguments(n: int, fraction: float) -> None:
    with pytest.raises(ValueError):
        random_split(n, fraction, make_rng(0))
