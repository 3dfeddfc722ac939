"""Activations: finite-difference derivatives, closed forms, stability, dtype, buffer reuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import numpy as np
import pytest

from ocrlab.scratch.activations import (
    ACTIVATION_NAMES,
    ACTIVATIONS,
    ActivationName,
    LeakyReLU,
    get_activation,
)

Reference = Callable[[np.ndarray], np.ndarray]
REFERENCE: dict[str, Reference] = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z >= 0, z, 0.01 * z),
    "swish": lambda z: z / (1.0 + np.exp(-z)),
    "mish": lambda z: z * np.tanh(np.log1p(np.exp(z))),
    "tanhexp": lambda z: z * np.tanh(np.exp(z)),
}


def _inputs(dtype: type = np.float64) -> np.ndarray:
    z = np.random.Generator(np.random.PCG64(7)).uniform(-6.0, 4.0, size=(9, 11))
    # Keep clear of the ReLU kink, where the finite difference straddles two slopes.
    z[np.abs(z) < 1e-3] = 0.5
    return z.astype(dtype)


def test_registry_matches_literal() -> None:
    assert set(ACTIVATIONS) == set(get_args(ActivationName)) == set(ACTIVATION_NAMES)
    assert set(REFERENCE) == set(ACTIVATIONS)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="tanhexp") as info:
        get_activation("gelu")
    assert "gelu" in str(info.value)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_forward_matches_closed_form(name: str) -> None:
    z = _inputs()
    np.testing.assert_allclose(get_activation(name).forward(z), REFERENCE[name](z), rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_matches_finite_differences(name: str) -> None:
    z, h = _inputs(), 1e-6
    act = get_activation(name)
    act.forward(z)
    analytic = act.backward(np.ones_like(z)).copy()
    plus = get_activation(name).forward(z + h).copy()
    minus = get_activation(name).forward(z - h).copy()
    np.testing.assert_allclose(analytic, (plus - minus) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_backward_chains_upstream_gradient(name: str) -> None:
    z = _inputs()
    upstream = np.random.Generator(np.random.PCG64(1)).standard_normal(z.shape)
    act = get_activation(name)
    act.forward(z)
    derivative = act.backward(np.ones_like(z)).copy()
    act.forward(z)
    np.testing.assert_allclose(act.backward(upstream), derivative * upstream, rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_float32_stays_float32(name: str) -> None:
    z = _inputs(np.float32)
    act = get_activation(name)
    out = act.forward(z)
    grad = act.backward(np.ones_like(z))
    assert out.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(out, REFERENCE[name](z.astype(np.float64)), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_extreme_inputs_stay_finite_without_overflow(name: str) -> None:
    z = np.array([[-1e4, -300.0, -88.0, -20.0, 0.0, 20.0, 88.0, 300.0, 1e4]], dtype=np.float32)
    act = get_activation(name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = act.forward(z).copy()
        grad = act.backward(np.ones_like(z))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))
    # Every activation here is ≈ identity or ≈ a bounded value far from zero.
    assert out[0, -1] == pytest.approx(1e4 if name not in {"sigmoid", "tanh"} else 1.0)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_buffers_are_reused_and_shrink_to_batch(name: str) -> None:
    z = _inputs(np.float32)
    act = get_activation(name)
    first = act.forward(z)
    second = act.forward(z + 1)
    assert np.shares_memory(first, second)
    small = act.forward(z[:3])
    assert small.shape == (3, z.shape[1])
    np.testing.assert_allclose(small, get_activation(name).forward(z[:3]))


def test_leaky_relu_alpha() -> None:
    z = np.array([[-2.0, 3.0]])
    act = LeakyReLU(alpha=0.2)
    np.testing.assert_allclose(act.forward(z), [[-0.4, 3.0]])
    np.testing.assert_allclose(act.backward(np.ones_like(z)), [[0.2, 1.0]])
    with pytest.raises(ValueError, match="alpha"):
        LeakyReLU(alpha=1.5)


def test_relu_derivative_at_zero_follows_the_seed() -> None:
    act = get_activation("relu")
    act.forward(np.zeros((1, 2)))
    np.testing.assert_array_equal(act.backward(np.ones((1, 2))), [[1.0, 1.0]])
