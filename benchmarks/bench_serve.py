"""HTTP API under load: throughput, p50/p99 latency and errors of `POST /v1/read` on loopback.

Trains a small word classifier in a temporary folder (seconds), starts the real server
(`ocrlab serve`, uvicorn, 127.0.0.1 only) in a subprocess, sends a bounded load of raw-PNG reads
from an asyncio client, and prints the figures with the machine and versions. It measures twice
in one run, with torch's default intra-op threads and with one (OMP_NUM_THREADS=1), and prints the
ratio. The client shares the machine with the server: the figures are a floor for a dedicated one.

    python benchmarks/bench_serve.py [--requests 2000] [--concurrency 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2

from _common import report
from ocrlab.synth import PRESETS, generate
from ocrlab.train.classifier import ClassifierConfig, train_classifier
from ocrlab.train.loop import TrainConfig

# The quick preset's input size with a narrow ResNet18: a realistic request, a small model.
MODEL = ClassifierConfig(
    width=16,
    input_height=32,
    input_width=224,
    train=TrainConfig(epochs=1, batch_size=32, device="cpu", amp=False),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(
    run: Path, port: int, workers: int, env: dict[str, str] | None
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "ocrlab.cli", "serve", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--model", f"bench={run}", "--workers", str(workers)]
    argv += ["--device", "cpu"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"the server exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx2.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not answer /health within 120 s")


async def _load(url: str, image: bytes, requests: int, concurrency: int) -> dict[str, Any]:
    """Send `requests` reads, `concurrency` at a time, after a warm-up; latencies in ms."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        await _send(client, image, 20, concurrency)  # warm-up: connections, first inferences
        start = time.perf_counter()
        result = await _send(client, image, requests, concurrency)
        result["seconds"] = time.perf_counter() - start
    return result


async def _send(
    client: httpx2.AsyncClient, image: bytes, requests: int, concurrency: int
) -> dict[str, Any]:
    jobs = iter(range(requests))
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    server_ms: dict[str, list[float]] = {"decode_ms": [], "preprocess_ms": [], "inference_ms": []}

    async def worker() -> None:
        for _ in jobs:
            start = time.perf_counter()
            try:
                r = await client.post(
                    "/v1/read?top_k=5", content=image, headers={"content-type": "image/png"}
                )
                statuses[str(r.status_code)] += 1
                if r.status_code == 200:
                    for key, values in server_ms.items():
                        values.append(r.json()["timings"][key])
            except httpx2.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(1000 * (time.perf_counter() - start))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"latencies": latencies, "statuses": statuses, "server": server_ms}


def _percentile(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1], 2)


def _measure(run: Path, image: bytes, args: argparse.Namespace, threads: str) -> dict[str, Any]:
    """Serve `run` with `threads` torch threads per process ('' = torch's default) and load it."""
    env = {**os.environ, "OMP_NUM_THREADS": threads} if threads else None
    port = _free_port()
    server = _start_server(run, port, args.workers, env)
    try:
        url = f"http://127.0.0.1:{port}"
        result = asyncio.run(_load(url, image, args.requests, args.concurrency))
    finally:
        server.terminate()
        server.wait(30)
    latencies = result["latencies"]
    return {
        "torch_threads": threads or "default",
        "seconds": round(result["seconds"], 2),
        "throughput_rps": round(args.requests / result["seconds"], 1),
        "latency_ms": {
            "p50": _percentile(latencies, 50),
            "p90": _percentile(latencies, 90),
            "p99": _percentile(latencies, 99),
            "max": round(max(latencies), 2),
        },
        "server_mean_ms": {
            k: round(statistics.fmean(v), 2) for k, v in result["server"].items() if v
        },
        "errors": sum(n for status, n in result["statuses"].items() if status != "200"),
        "statuses": dict(result["statuses"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server reads at once")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        generate(dataclasses.replace(PRESETS["easy"], words=10), root / "easy")
        train_classifier([root / "easy"], root / "run", MODEL)
        image = next((root / "easy" / "images").iterdir()).read_bytes()
        runs = [_measure(root / "run", image, args, threads) for threads in ("", "1")]
    report(
        "serve",
        {
            "requests": args.requests,
            "concurrency": args.concurrency,
            "server_workers": args.workers,
            "model": f"resnet18 width {MODEL.width}, input 32x224, 10 classes, cpu",
            "image_bytes": len(image),
            "runs": runs,
            "throughput_ratio_1_thread_vs_default": round(
                runs[1]["throughput_rps"] / runs[0]["throughput_rps"], 2
            ),
        },
        packages=("torch", "fastapi", "uvicorn", "httpx2"),
    )


if __name__ == "__main__":
    main()
