"""Training survives kill -9: killed at a seeded random batch and then at a seeded random
checkpoint write (half the file on disk, not yet renamed), resumed each time, a run ends with the
same weights, byte for byte, as one never interrupted; no kill leaves a torn file in place."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from safetensors.torch import load_file

from ocrlab.runtime import checkpoint
from ocrlab.synth import PRESETS, generate

# The child trains a tiny classifier (3 epochs of 3 batches, dropout and augmentation on, one
# thread) and SIGKILLs itself at batch N or inside the Nth atomic write (`os.replace` is the rename
# that ends each one): the write's temporary file is cut to half its bytes first.
CHILD = """
import json, os, signal, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
from ocrlab.train.classifier import ClassifierConfig, train_classifier
from ocrlab.train.loop import TrainConfig

data, out, mode, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
counts = {"batch": 0, "write": 0}
replace = os.replace

def kill_at(kind):
    counts[kind] += 1
    if mode == kind and counts[kind] == n:
        return True
    return False

def torn_replace(src, dst):
    if kill_at("write"):
        os.truncate(src, os.path.getsize(src) // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    replace(src, dst)

def on_event(event):
    if event["event"] == "batch" and kill_at("batch"):
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = torn_replace
cfg = ClassifierConfig(width=8, input_height=16, input_width=64,
                       train=TrainConfig(epochs=3, batch_size=12, lr=3e-3, device="cpu"))
train_classifier([data], out, cfg, resume=(out / "config.json").is_file(), callback=on_event)
print(json.dumps(counts))
"""


def _train(data: Path, out: Path, mode: str = "", n: int = 0) -> subprocess.CompletedProcess[str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-c", CHILD, str(data), str(out), mode, str(n)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


def _assert_nothing_torn(run: Path) -> None:
    """What is in place is whole: the weights load, the JSON parses."""
    for name in (checkpoint.WEIGHTS, checkpoint.LAST):
        if (run / name).exists():
            load_file(run / name)
    for name in (checkpoint.META, "config.json"):
        if (run / name).exists():
            json.loads((run / name).read_text(encoding="utf-8"))
    if (run / checkpoint.STATE).exists():
        checkpoint.load_state(run)


def test_kill_9_during_an_epoch_and_during_a_write_then_resume_is_bit_exact(
    tmp_path: Path,
) -> None:
    data = generate(dataclasses.replace(PRESETS["easy"], words=4), tmp_path / "easy")
    whole = _train(data, tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    counts = json.loads(whole.stdout.splitlines()[-1])
    assert counts["batch"] == 9 and counts["write"] >= 13  # 36 images, 3 epochs of 12 a batch
    rng = random.Random(18)
    run = tmp_path / "killed"
    killed = _train(data, run, "batch", rng.randint(1, counts["batch"]))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _assert_nothing_torn(run)
    # A resumed run writes at least one epoch's weights, last weights, state and history and the
    # final weights, checkpoint.json and metrics.json: kill it in one of those writes.
    killed = _train(data, run, "write", rng.randint(1, 7))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert list(run.glob(".*.tmp")), "the kill came before the write"
    _assert_nothing_torn(run)
    resumed = _train(data, run)
    assert resumed.returncode == 0, resumed.stderr
    assert not list(run.glob(".*.tmp"))
    for name in (checkpoint.WEIGHTS, checkpoint.LAST):
        assert (run / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    metrics = [json.loads((r / "metrics.json").read_text()) for r in (run, tmp_path / "whole")]
    assert metrics[0]["test_loss"] == metrics[1]["test_loss"]
