"""Torch autograd as an oracle: activations, losses, a whole MLP's gradients and SGD with momentum.

Torch is a test dependency only; the library under test never imports it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch.nn import functional

from ocrlab.scratch import MLPClassifier
from ocrlab.scratch.activations import ACTIVATION_NAMES, get_activation
from ocrlab.scratch.init import as_generator
from ocrlab.scratch.layers import Dense, backward_all, forward_all
from ocrlab.scratch.losses import OUTPUT_NAMES, get_output
from ocrlab.scratch.optim import SGD

TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: functional.leaky_relu(z, 0.01),
    "swish": functional.silu,
    "mish": functional.mish,
    "tanhexp": lambda z: z * torch.tanh(torch.exp(z)),
}


def _torch_loss(name: str, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if name == "softmax":
        return functional.cross_entropy(logits, y)
    onehot = functional.one_hot(y, logits.shape[1]).to(logits.dtype)
    bce = functional.binary_cross_entropy_with_logits(logits, onehot, reduction="sum")
    return bce / logits.shape[0]


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_matches_autograd(name: str) -> None:
    rng = as_generator(0)
    z = rng.uniform(-6.0, 6.0, size=(32, 17)).astype(np.float32)
    upstream = rng.standard_normal((32, 17), dtype=np.float32)
    act = get_activation(name)
    out = act.forward(z).copy()
    grad = act.backward(upstream)
    tz = torch.from_numpy(z).requires_grad_()
    tout = TORCH_ACTIVATIONS[name](tz)
    tout.backward(torch.from_numpy(upstream))
    assert tz.grad is not None
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_loss_matches_autograd(name: str) -> None:
    rng = as_generator(1)
    logits = 4 * rng.standard_normal((16, 26), dtype=np.float32)
    y = rng.integers(0, 26, size=16).astype(np.intp)
    loss = get_output(name)
    value = loss.forward(logits, y)
    tlogits = torch.from_numpy(logits).requires_grad_()
    tvalue = _torch_loss(name, tlogits, torch.from_numpy(y).long())
    tvalue.backward()
    assert tlogits.grad is not None
    assert value == pytest.approx(tvalue.item(), rel=1e-5)
    np.testing.assert_allclose(loss.backward(), tlogits.grad.numpy(), rtol=1e-4, atol=1e-7)


def _fitted(activation: str, output: str, l2: float = 0.0) -> tuple[MLPClassifier, np.ndarray]:
    rng = as_generator(2)
    X = rng.random((40, 12), dtype=np.float32)
    y = rng.integers(0, 5, size=40)
    clf = MLPClassifier(
        hidden=(16, 8), activation=activation, output=output, epochs=1, l2=l2,  # type: ignore[arg-type]
        early_stopping=False, batch_size=8,
    )  # fmt: skip
    return clf.fit(X, y), X


def _torch_network(clf: MLPClassifier) -> tuple[list[torch.Tensor], Callable[..., torch.Tensor]]:
    dense = [layer for layer in clf.layers_ if isinstance(layer, Dense)]
    params = []
    for layer in dense:
        params += [
            torch.tensor(layer.W, requires_grad=True),
            torch.tensor(layer.b, requires_grad=True),
        ]

    def forward(x: torch.Tensor) -> torch.Tensor:
        for i in range(0, len(params), 2):
            if i:
                x = TORCH_ACTIVATIONS[clf.activation](x)
            x = x @ params[i] + params[i + 1]
        return x

    return params, forward


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("output", OUTPUT_NAMES)
def test_mlp_gradients_match_autograd(activation: str, output: str) -> None:
    clf, X = _fitted(activation, output, l2=0.01)
    y = np.arange(X.shape[0]) % clf.classes_.size
    loss = get_output(output)
    value = loss.forward(forward_all(clf.layers_, X), y)
    backward_all(clf.layers_, loss.backward())
    params, forward = _torch_network(clf)
    tloss = _torch_loss(output, forward(torch.from_numpy(X)), torch.from_numpy(y).long())
    weights = params[::2]
    (tloss + 0.005 * sum((w * w).sum() for w in weights)).backward()
    assert value == pytest.approx(tloss.item(), rel=1e-5)
    ours = [array for layer in clf.layers_ for _, array in layer.parameters()]
    for mine, theirs in zip(ours, params, strict=True):
        assert theirs.grad is not None
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_sgd_momentum_matches_torch() -> None:
    rng = as_generator(3)
    w = rng.standard_normal((4, 3), dtype=np.float32)
    grads = [rng.standard_normal((4, 3), dtype=np.float32) for _ in range(3)]
    g = np.empty_like(w)
    ours = SGD([(w, g)], lr=0.1, momentum=0.9)
    tw = torch.tensor(w, requires_grad=True)
    theirs = torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    for grad in grads:
        g[:] = grad
        ours.step()
        tw.grad = torch.from_numpy(grad.copy())
        theirs.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-6, atol=1e-7)
