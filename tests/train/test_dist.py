"""A training group of two gloo ranks on the CPU, started as torchrun starts them.

The group must compute what one process computes with the same global batches (BatchNorm over the
global batch, the uneven last batch weighted by each rank's share); only rank 0 may write; a rank
that dies must end the group with one clear sentence and a run folder that resumes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ocrlab import cli
from ocrlab.runtime import checkpoint
from ocrlab.train import dist
from ocrlab.train.loop import ClassifierTask, fit

sys.path.insert(0, str(Path(__file__).parent))
from ddp_worker import CFG, tiny_run

WORKER = Path(__file__).with_name("ddp_worker.py")
# Float sums in another order (each rank's part, then the all-reduce) moved weights by 5.1e-7
# after epoch 1; BatchNorm statistics per rank instead of over the global batch move them by 0.13.
ATOL = 1e-5


def _group(run: Path, mode: str, tmp: Path) -> list[tuple[int, str, list[str]]]:
    """Start ranks 0 and 1 of `ddp_worker.py`; (exit status, stderr, files written) per rank."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in (0, 1):
        ranks = {
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": "2",
            "OMP_NUM_THREADS": "1",
        }
        env = {**os.environ, **ranks, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        record = tmp / f"{mode}-{rank}.json"
        cmd = [sys.executable, str(WORKER), str(run), str(record), mode]
        procs.append((subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True), record))
    out = []
    for proc, record in procs:
        _, err = proc.communicate(timeout=120)
        out.append((proc.returncode, err, json.loads(record.read_text())))
    return out


def _one_process(folder: Path) -> list[dict[str, torch.Tensor]]:
    """One process's weights after each of three epochs."""
    cfg = dataclasses.replace(CFG, epochs=3)
    run, train, test = tiny_run(folder, cfg)
    after: list[dict[str, torch.Tensor]] = []
    snapshot = lambda _: after.append({k: v.clone() for k, v in run.model.state_dict().items()})  # noqa: E731
    fit(
        run,
        train,
        test,
        ClassifierTask(),
        cfg,
        callback=lambda e: e["event"] == "epoch" and snapshot(e),
    )
    return after


def _assert_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key].double(), b[key].double(), atol=ATOL, rtol=0), key


def test_two_ranks_train_as_one_process_die_clearly_and_resume(tmp_path: Path) -> None:
    run, one = tmp_path / "run", _one_process(tmp_path / "one")
    (rank0, err0, wrote0), (rank1, err1, wrote1) = _group(run, "die", tmp_path)
    assert rank1 != 0 and "rank 1 fell over" in err1
    assert rank0 == 2, err0
    assert "another rank of the training group stopped during epoch 2" in err0
    assert "--resume" in err0 and "Traceback" not in err0
    assert wrote0 and not wrote1  # rank 0 alone writes
    assert not list(run.glob(".*.tmp"))  # no half-written file
    state = checkpoint.load_state(run)
    assert len(state["history"]) == 1
    # Epoch 1 took two steps (8 images, then 5 split 3 + 2); its weights are one process's.
    _assert_close(load_file(run / checkpoint.LAST), one[0])

    (rank0, err0, wrote0), (rank1, err1, wrote1) = _group(run, "resume", tmp_path)
    assert (rank0, rank1) == (0, 0), err0 + err1
    assert wrote0 and not wrote1
    assert len(checkpoint.load_state(run)["history"]) == 3
    _assert_close(load_file(run / checkpoint.WEIGHTS), one[2])


def test_a_failure_on_rank_0_alone_reaches_every_rank_clearly(tmp_path: Path) -> None:
    (rank0, err0, _), (rank1, err1, _) = _group(tmp_path / "run", "main_fails", tmp_path)
    assert rank0 != 0 and "FileNotFoundError" in err0 and "Traceback" in err0  # its own story
    assert rank1 == 2, err1
    assert "rank 0 stopped: FileNotFoundError" in err1 and "Traceback" not in err1


def test_a_rank_whose_peer_died_exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's teardown at exit would tear the broken group down, which gloo may abort."""
    exits: list[int] = []
    monkeypatch.setattr(dist.os, "_exit", exits.append)
    cli._leave_broken_group(2)
    assert exits == []  # a group that did not break tears down as usual
    monkeypatch.setattr(dist, "_broken", True)
    cli._leave_broken_group(2)
    assert exits == [2]
