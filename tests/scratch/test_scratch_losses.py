"""Fused output losses: values, gradients by finite differences, and stability at extreme logits."""

from __future__ import annotations

import numpy as np
import pytest

from ocrlab.scratch.losses import OUTPUT_NAMES, get_output


def _batch(scale: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(3))
    return scale * rng.standard_normal((6, 5)), rng.integers(0, 5, size=6).astype(np.intp)


def _naive(name: str, logits: np.ndarray, y: np.ndarray) -> float:
    onehot = np.eye(logits.shape[1])[y]
    if name == "softmax":
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return float(-np.mean(np.sum(onehot * np.log(p), axis=1)))
    p = 1.0 / (1.0 + np.exp(-logits))
    bce = -onehot * np.log(p) - (1 - onehot) * np.log(1 - p)
    return float(np.mean(np.sum(bce, axis=1)))


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_loss_matches_textbook_formula(name: str) -> None:
    logits, y = _batch()
    assert get_output(name).forward(logits, y) == pytest.approx(_naive(name, logits, y), rel=1e-12)


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_gradient_is_prediction_minus_target_over_m(name: str) -> None:
    logits, y = _batch()
    loss = get_output(name)
    loss.forward(logits, y)
    onehot = np.eye(logits.shape[1])[y]
    if name == "softmax":
        expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    else:
        expected = 1.0 / (1.0 + np.exp(-logits))
    np.testing.assert_allclose(loss.backward(), (expected - onehot) / len(y), rtol=1e-10)


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_gradient_matches_finite_differences(name: str) -> None:
    logits, y = _batch()
    loss, h = get_output(name), 1e-6
    loss.forward(logits, y)
    analytic = loss.backward().copy()
    numeric = np.zeros_like(logits)
    for idx in np.ndindex(logits.shape):
        step = np.zeros_like(logits)
        step[idx] = h
        numeric[idx] = (loss.forward(logits + step, y) - loss.forward(logits - step, y)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_extreme_logits_are_stable(name: str) -> None:
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=np.float32)
    y = np.array([1, 2], dtype=np.intp)
    loss = get_output(name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(logits, y)
        grad = loss.backward()
        proba = loss.probabilities(logits)
    assert np.isfinite(value) and value > 1e3  # the first row is confidently wrong
    assert grad.dtype == np.float32 and np.all(np.isfinite(grad))
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_probabilities_are_row_distributions_in_logit_order(name: str) -> None:
    logits, _ = _batch()
    proba = get_output(name).probabilities(logits.astype(np.float32))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), logits.argmax(axis=1))


def test_unknown_output() -> None:
    with pytest.raises(ValueError, match="softmax"):
        get_output("hinge")
