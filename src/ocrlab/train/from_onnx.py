"""Fine-tuning from an exported file: a line model's CRNN read back from its ONNX graph.

`ocrlab export` folds each BatchNorm into the convolution before it, writes the LSTMs in ONNX's
gate order and the head as a matrix product, and stores the model's `Checkpoint` in the file's
metadata. Reading back inverts each step. A folded BatchNorm cannot be unfolded (its four vectors
became one kernel and one bias), so each gets statistics measured on the lines training starts from:
with those, it computes exactly what the graph does in eval mode, and nearly so on a training
batch, so fine-tuning starts from the exported model's readings rather than from scrambled
features. The result is checked against onnxruntime on the same lines before it is used. An
int8 export is refused: its weights are rounded, and its arithmetic is not torch's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ocrlab.errors import DatasetError
from ocrlab.models import build
from ocrlab.models.crnn import CRNN, line_input
from ocrlab.runtime.checkpoint import ONNX_META_KEY, Checkpoint
from ocrlab.runtime.line import width_buckets

TOLERANCE = 1e-3
"""Largest difference of a column probability, torch against onnxruntime, that passes as the same
model (float32 sums in another order differ by about 1e-6)."""
MEASURED = 64
"""Lines that measure the BatchNorm statistics and check the result: every layer's activations
for them are held at once (some 50 MB for CAPTCHA-sized lines)."""
_GATES = [0, 2, 3, 1]
"""Torch's LSTM gate blocks (input, forget, cell, output) as positions in ONNX's (i, o, f, c)."""


def load_exported(path: Path, lines: np.ndarray | None) -> tuple[CRNN, Checkpoint]:
    """The CRNN of an ocrlab line-model export at `path`, and its checkpoint; `lines`, (N, H, W,
    1) uint8 lines as the model reads them (the labels' images), give the BatchNorm statistics."""
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(path))
    except Exception as exc:  # protobuf raises its own untyped errors for a damaged file
        raise DatasetError(f"cannot load ONNX model {path}: {exc}") from None
    props = {p.key: p.value for p in graph.metadata_props}
    if ONNX_META_KEY not in props:
        raise DatasetError(f"{path} was not exported by ocrlab (no metadata)")
    ckpt = Checkpoint.from_dict(json.loads(props[ONNX_META_KEY]), path)
    if ckpt.kind != "line" or ckpt.model != "crnn":
        raise DatasetError(
            f"{path} holds a {ckpt.kind} model; fine-tuning starts from a line model"
        )
    if any(n.op_type == "QuantizeLinear" for n in graph.graph.node):
        raise DatasetError(
            f"{path} is an int8 export (rounded weights); fine-tune from the float export "
            "(`ocrlab export` without --int8) or the run folder"
        )
    if lines is None or not len(lines):
        raise DatasetError("reading weights back from an ONNX file needs some lines to measure")
    tensors = {t.name: np.array(numpy_helper.to_array(t), np.float32)
               for t in graph.graph.initializer}  # fmt: skip

    def value(name: str) -> np.ndarray:
        if name not in tensors:
            raise DatasetError(f"{path}: {name} is not a weight ocrlab can read back")
        return tensors[name]

    ops: dict[str, list[Any]] = {}
    for node in graph.graph.node:
        ops.setdefault(node.op_type, []).append(node)
    model = build("crnn", **ckpt.model_config)
    assert isinstance(model, CRNN)
    convs = [m for m in model.cnn if isinstance(m, nn.Conv2d)]
    if len(ops.get("Conv", [])) != len(convs) or len(ops.get("LSTM", [])) != model.rnn.num_layers:
        raise DatasetError(f"{path} does not have the layers of its checkpoint's CRNN")
    folded = [(value(n.input[1]), value(n.input[2])) for n in ops["Conv"]]
    state = _lstm_state(model, [[value(x) for x in n.input[1:4]] for n in ops["LSTM"]])
    state.update(_head_state(model, ops, value))
    with torch.no_grad():
        for conv, (kernel, _) in zip(convs, folded, strict=True):
            if tuple(conv.weight.shape) != kernel.shape:
                raise DatasetError(f"{path} does not have the layers of its checkpoint's CRNN")
            conv.weight.copy_(torch.from_numpy(kernel))
        for name, tensor in state.items():
            target = model.get_parameter(name)
            if target.shape != tensor.shape:
                raise DatasetError(f"{path} does not have the layers of its checkpoint's CRNN")
            target.copy_(tensor)
    _measure_norms(model, [bias for _, bias in folded], lines)
    _check(model, graph, path, lines)
    return model, ckpt


def _lstm_state(model: CRNN, layers: list[list[np.ndarray]]) -> dict[str, torch.Tensor]:
    """Torch LSTM parameters from ONNX's W, R, B of each layer ((directions, 4H, ·), gates in
    ONNX's order)."""
    hidden, state = model.rnn.hidden_size, {}

    def gates(a: np.ndarray) -> torch.Tensor:
        blocks = np.split(a, 4, axis=0)
        return torch.from_numpy(np.concatenate([blocks[g] for g in _GATES], axis=0))

    for k, (w, r, b) in enumerate(layers):
        for d, suffix in enumerate(["", "_reverse"]):
            state[f"rnn.weight_ih_l{k}{suffix}"] = gates(w[d])
            state[f"rnn.weight_hh_l{k}{suffix}"] = gates(r[d])
            state[f"rnn.bias_ih_l{k}{suffix}"] = gates(b[d, : 4 * hidden])
            state[f"rnn.bias_hh_l{k}{suffix}"] = gates(b[d, 4 * hidden :])
    return state


def _head_state(model: CRNN, ops: dict[str, list[Any]], value: Any) -> dict[str, torch.Tensor]:
    """The head: the graph's last MatMul (weight transposed) and the Add of its bias."""
    shape = (model.head.in_features, model.head.out_features)
    matmul = [n for n in ops.get("MatMul", []) if _weight_shape(n, value) == shape]
    if not matmul:
        raise DatasetError("the ONNX file has no output layer of its checkpoint's CRNN")
    out = matmul[-1].output[0]
    add = [n for n in ops.get("Add", []) if out in n.input]
    bias_name = next((x for n in add for x in n.input if x != out), None)
    if bias_name is None:
        raise DatasetError("the ONNX file has no output bias of its checkpoint's CRNN")
    weight = value(matmul[-1].input[1]).T.copy()
    return {
        "head.weight": torch.from_numpy(weight),
        "head.bias": torch.from_numpy(value(bias_name)),
    }


def _weight_shape(node: Any, value: Any) -> tuple[int, ...] | None:
    try:
        return tuple(value(node.input[1]).shape)
    except DatasetError:
        return None


def _buckets(lines: np.ndarray, width: int | None = None) -> list[torch.Tensor]:
    """At most `MEASURED` of the lines as the readers feed them: cut to their bucket widths, or
    all to `width` for a file exported for one width."""
    lines = lines[:MEASURED]
    if width is not None:
        x = line_input(torch.from_numpy(lines[:, :, :width]).permute(0, 3, 1, 2))
        return list(torch.split(x, 64))
    return [
        line_input(torch.from_numpy(lines[rows, :, :cols]).permute(0, 3, 1, 2))
        for rows, cols in width_buckets(lines, 64)
    ]


@torch.no_grad()
def _measure_norms(model: CRNN, biases: list[np.ndarray], lines: np.ndarray) -> None:
    """Give each BatchNorm the mean and variance of its convolution's output on `lines`, a scale
    of their standard deviation and a shift of their mean plus the folded bias: in eval mode it
    then adds exactly the bias, and on a batch like these lines nearly so."""
    model.eval()
    xs, folded = _buckets(lines), iter(biases)
    for layer in model.cnn:
        if isinstance(layer, nn.BatchNorm2d):  # xs: its convolution's outputs, without bias
            n = sum(x.numel() // x.shape[1] for x in xs)
            mean = torch.stack([x.sum((0, 2, 3)) for x in xs]).sum(0) / n
            var = torch.stack([((x - mean[:, None, None]) ** 2).sum((0, 2, 3)) for x in xs])
            var = var.sum(0) / n
            assert layer.running_mean is not None and layer.running_var is not None
            layer.running_mean.copy_(mean)
            layer.running_var.copy_(var)
            layer.weight.copy_((var + layer.eps).sqrt())
            layer.bias.copy_(mean + torch.from_numpy(next(folded)))
        xs = [layer(x) for x in xs]


def _check(model: CRNN, graph: Any, path: Path, lines: np.ndarray) -> None:
    """The model read back computes what the file does on `lines` (at the file's own width when
    it was exported for one)."""
    import onnxruntime as ort

    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    width = session.get_inputs()[0].shape[3]
    model.eval()
    for x in _buckets(lines, width if isinstance(width, int) else None):
        expected = session.run(None, {"images": x.numpy()})[0]
        with torch.no_grad():
            got = model(x).softmax(-1).numpy()
        gap = np.abs(got - expected).max() if got.shape == expected.shape else np.inf
        if gap > TOLERANCE:
            raise DatasetError(
                f"{path}: the weights read back do not compute what the file does (column "
                f"probabilities differ by up to {gap:.3g})"
            )
