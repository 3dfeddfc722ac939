"""Dense layer, initialisers and SGD: shapes, buffer reuse, weight decay, formulas, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ocrlab.scratch.init import as_generator, he_normal, resolve_init, xavier_uniform
from ocrlab.scratch.layers import Dense
from ocrlab.scratch.optim import SGD, EarlyStopping, decayed_lr


def _dense(l2: float = 0.0) -> Dense:
    rng = as_generator(0)
    return Dense(xavier_uniform(4, 3, rng), np.zeros(3, np.float32), l2)


def test_dense_forward_backward_shapes_and_values() -> None:
    layer = _dense()
    layer.b[:] = [1.0, 2.0, 3.0]
    x = as_generator(1).random((5, 4), dtype=np.float32)
    z = layer.forward(x)
    np.testing.assert_allclose(z, x @ layer.W + layer.b, rtol=1e-6)
    grad = np.ones((5, 3), np.float32)
    dx = layer.backward(grad)
    assert dx.shape == (5, 4) and dx.dtype == np.float32
    np.testing.assert_allclose(dx, grad @ layer.W.T, rtol=1e-6)
    np.testing.assert_allclose(layer.dW, x.T @ grad, rtol=1e-6)
    np.testing.assert_allclose(layer.db, grad.sum(axis=0))


def test_dense_reuses_buffers_across_batches() -> None:
    layer = _dense()
    x = np.ones((8, 4), np.float32)
    first = layer.forward(x)
    dx_first = layer.backward(np.ones((8, 3), np.float32))
    second = layer.forward(x[:5])
    dx_second = layer.backward(np.ones((5, 3), np.float32))
    assert np.shares_memory(first, second) and np.shares_memory(dx_first, dx_second)
    assert second.shape == (5, 3) and dx_second.shape == (5, 4)


def test_backward_params_fills_gradients_only() -> None:
    full, params_only = _dense(), _dense()
    x = np.ones((2, 4), np.float32)
    grad = np.full((2, 3), 0.5, np.float32)
    full.forward(x)
    full.backward(grad)
    params_only.forward(x)
    params_only.backward_params(grad)
    np.testing.assert_array_equal(full.dW, params_only.dW)
    assert "dx" not in params_only.workspace._arrays


def test_l2_adds_decay_to_weight_gradient_only() -> None:
    plain, decayed = _dense(), _dense(l2=0.1)
    x, grad = np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)
    for layer in (plain, decayed):
        layer.forward(x)
        layer.backward(grad)
    np.testing.assert_allclose(decayed.dW, plain.dW + 0.1 * plain.W, rtol=1e-6)
    np.testing.assert_array_equal(decayed.db, plain.db)


def test_dense_rejects_mismatched_bias() -> None:
    with pytest.raises(ValueError, match="bias"):
        Dense(np.zeros((4, 3), np.float32), np.zeros(4, np.float32))


def test_xavier_uniform_is_the_seed_formula() -> None:
    w = xavier_uniform(784, 26, as_generator(0))
    eps = math.sqrt(6) / math.sqrt(784 + 26)
    assert w.dtype == np.float32 and w.shape == (784, 26)
    assert np.abs(w).max() <= eps and np.abs(w).max() > 0.99 * eps
    assert abs(float(w.mean())) < 0.01 * eps


def test_he_normal_scale() -> None:
    w = he_normal(512, 256, as_generator(0))
    assert w.dtype == np.float32
    assert float(w.std()) == pytest.approx(math.sqrt(2 / 512), rel=0.02)


def test_init_is_deterministic_per_seed() -> None:
    a = xavier_uniform(10, 5, as_generator(4))
    np.testing.assert_array_equal(a, xavier_uniform(10, 5, as_generator(4)))
    assert not np.array_equal(a, xavier_uniform(10, 5, as_generator(5)))


@pytest.mark.parametrize(
    ("init", "activation", "scheme"),
    [
        ("auto", "relu", "he"),
        ("auto", "tanhexp", "he"),
        ("auto", "leaky_relu", "he"),
        ("auto", "sigmoid", "xavier"),
        ("auto", "tanh", "xavier"),
        ("auto", "softmax", "xavier"),
        ("xavier", "relu", "xavier"),
        ("he", "tanh", "he"),
    ],
)
def test_resolve_init(init: str, activation: str, scheme: str) -> None:
    assert resolve_init(init, activation) == scheme


def test_resolve_init_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="xavier"):
        resolve_init("lecun", "relu")


def test_as_generator() -> None:
    rng = np.random.Generator(np.random.PCG64(1))
    assert as_generator(rng) is rng
    assert as_generator(3).random() == as_generator(3).random()
    with pytest.raises(TypeError):
        as_generator(True)
    with pytest.raises(TypeError):
        as_generator(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        as_generator(-1)


def test_sgd_momentum_matches_formula() -> None:
    w = np.array([1.0, -2.0], np.float32)
    g = np.array([0.5, 0.25], np.float32)
    opt = SGD([(w, g)], lr=0.1, momentum=0.9)
    opt.step()
    np.testing.assert_allclose(w, [1.0 - 0.05, -2.0 - 0.025], rtol=1e-6)
    opt.step()
    # v = 0.9·g + g after the second step.
    np.testing.assert_allclose(w, [0.95 - 0.1 * 0.95, -2.025 - 0.1 * 0.475], rtol=1e-6)
    assert w.dtype == np.float32


@pytest.mark.parametrize(("lr", "momentum"), [(0.0, 0.9), (0.1, 1.0), (0.1, -0.1)])
def test_sgd_rejects_bad_hyperparameters(lr: float, momentum: float) -> None:
    with pytest.raises(ValueError):
        SGD([], lr=lr, momentum=momentum)


def test_decayed_lr() -> None:
    assert decayed_lr(0.1, 1.0, 7) == 0.1
    assert decayed_lr(0.1, 0.5, 2) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="lr_decay"):
        decayed_lr(0.1, 1.5, 1)


def test_early_stopping_keeps_best_copy_and_counts_patience() -> None:
    w = np.array([1.0], np.float32)
    stopper = EarlyStopping([(w, np.zeros_like(w))], patience=2)
    assert not stopper.update(1, 0.5)
    w[:] = 2.0
    assert not stopper.update(2, 0.4)
    w[:] = 3.0
    assert not stopper.update(3, 0.45)
    w[:] = 4.0
    assert stopper.update(4, 0.41)
    stopper.restore()
    assert stopper.best_epoch == 2 and w[0] == 2.0
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping([], patience=0)
