"""HTTP API under load: throughput, p50/p99 latency and errors of `POST /v1/read` on loopback.

Serves the shipped models a user would serve, `words` and `captcha` (sequence models, greedy
decoding as the API does by default), with the real server (`ocrlab serve --model words --model
captcha`, uvicorn, 127.0.0.1 only) in a subprocess, sends a bounded load of raw-PNG reads from an
asyncio client, and prints the figures with the machine and versions. Each model reads an image of
its own kind: a hard-style word drawn by `ocrlab.render` for `words`, a captcha_images_v2 image
(or, without that data set, a rendered one) for `captcha`. It measures with torch's default
intra-op threads and with one (OMP_NUM_THREADS=1), and prints the ratio. The client shares the
machine with the server: the figures are a floor for a dedicated one.

    python benchmarks/bench_serve.py [--requests 500] [--concurrency 16] [--workers 2]

`--soak MINUTES` instead serves the shipped models (general, words, captcha, letters) for that long
to 32 clients reading in a loop, clients that hang up mid-upload and slow-loris clients, with a
line of 16 behind 2 workers so the pool fills; it reports throughput, p50/p99 and resident memory
per 10-second window, deliberate refusals (503, 408) apart from errors (see `_soak.py`).

    python benchmarks/bench_serve.py --soak 1 [--concurrency 32] [--queue 16]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
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

import ocrlab
from _common import ROOT, report
from ocrlab.synth import PRESETS, generate

MODELS = ("words", "captcha")
CAPTCHAS = (
    Path(os.environ.get("OCRLAB_DATA", ROOT.parent / "shared" / "data")) / "captcha_images_v2"
)


def _images() -> dict[str, tuple[bytes, str]]:
    """model → (PNG bytes, where they come from)."""
    word = io.BytesIO()
    ocrlab.render("harbour", style="hard", seed=0).save(word, "PNG")
    found = sorted(CAPTCHAS.glob("*.png"))[:1] if CAPTCHAS.is_dir() else []
    if found:
        captcha = (found[0].read_bytes(), f"captcha_images_v2/{found[0].name}")
    else:
        buf = io.BytesIO()
        ocrlab.render("x4bd7", style="easy", seed=0).save(buf, "PNG")
        captcha = (buf.getvalue(), 'ocrlab.render("x4bd7", style="easy")')
    return {
        "words": (word.getvalue(), 'ocrlab.render("harbour", style="hard")'),
        "captcha": captcha,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(
    models: list[str], port: int, workers: int, env: dict[str, str] | None, *extra: str
) -> subprocess.Popen[bytes]:
    """`ocrlab serve` with `models` (names or NAME=RUN specs) in a subprocess, once it answers
    /health."""
    argv = [sys.executable, "-m", "ocrlab.cli", "serve", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", str(workers), "--device", "cpu", *extra]
    for spec in models:
        argv += ["--model", spec]
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


async def _load(
    url: str, model: str, image: bytes, requests: int, concurrency: int
) -> dict[str, Any]:
    """Send `requests` reads, `concurrency` at a time, after a warm-up; latencies in ms."""
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        await _send(client, model, image, 20, concurrency)  # warm-up: connections, first reads
        start = time.perf_counter()
        result = await _send(client, model, image, requests, concurrency)
        result["seconds"] = time.perf_counter() - start
    return result


async def _send(
    client: httpx2.AsyncClient, model: str, image: bytes, requests: int, concurrency: int
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
                    f"/v1/read?model={model}", content=image, headers={"content-type": "image/png"}
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


def _measure(
    images: dict[str, tuple[bytes, str]], args: argparse.Namespace, threads: str
) -> list[dict[str, Any]]:
    """Serve the shipped models with `threads` torch threads ('' = torch's default) and load
    each in turn."""
    env = {**os.environ, "OMP_NUM_THREADS": threads} if threads else None
    port = _free_port()
    server = _start_server(list(MODELS), port, args.workers, env)
    try:
        url = f"http://127.0.0.1:{port}"
        loads = {
            model: asyncio.run(_load(url, model, image, args.requests, args.concurrency))
            for model, (image, _) in images.items()
        }
    finally:
        server.terminate()
        server.wait(30)
    return [_figures(model, result, args, threads, images) for model, result in loads.items()]


def _figures(
    model: str,
    result: dict[str, Any],
    args: argparse.Namespace,
    threads: str,
    images: dict[str, tuple[bytes, str]],
) -> dict[str, Any]:
    latencies = result["latencies"]
    return {
        "model": model,
        "image": images[model][1],
        "image_bytes": len(images[model][0]),
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


def _soak_images(root: Path) -> list[tuple[str, bytes]]:
    """(shipped model, image) pairs: CAPTCHAs of the hard set for words and captcha, held-out
    letters and words for letters."""
    from ocrlab.synth.letters_eval import LettersEvalConfig, make_letters_eval

    generate(dataclasses.replace(PRESETS["hard"], words=8, limit=8), root / "hard")
    letters = dataclasses.replace(LettersEvalConfig(), letters=4, words=4, lines=0)
    make_letters_eval(letters, root / "letters")
    hard = sorted((root / "hard" / "images").iterdir())
    return [
        *((model, p.read_bytes()) for p in hard for model in ("general", "words", "captcha")),
        *(("letters", p.read_bytes()) for p in sorted((root / "letters" / "images").iterdir())),
    ]


def run_soak(args: argparse.Namespace) -> None:
    """The shipped models for `args.soak` minutes under load and abuse (see `_soak.py`)."""
    from _soak import SoakConfig, soak

    cfg = SoakConfig(minutes=args.soak, clients=args.concurrency)
    shipped = ("general", "words", "captcha", "letters")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        images = _soak_images(Path(tmp))
        port = _free_port()
        extra = ("--queue", str(args.queue), "--timeout", str(args.timeout))
        server = _start_server(list(shipped), port, args.workers, None, *extra)
        try:
            figures = asyncio.run(soak(f"http://127.0.0.1:{port}", server.pid, images, cfg))
        finally:
            server.terminate()
            server.wait(30)
        log = server.stderr.read().decode() if server.stderr else ""
    figures["server_tracebacks"] = log.count("Traceback")
    # What else ran on the machine: the soak's own load plus any other, as 1-minute averages.
    figures["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    settings = {"workers": args.workers, "queue": args.queue, "timeout_s": args.timeout}
    report(
        "soak",
        {**figures, "server": settings, "models": list(shipped), "images": len(images)},
        packages=("torch", "fastapi", "uvicorn", "httpx2"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="per model and thread setting")
    parser.add_argument("--concurrency", type=int, default=16, help="clients (soak: 32)")
    parser.add_argument("--workers", type=int, default=2, help="server reads at once")
    parser.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="instead: the shipped models for MINUTES under load, hang-ups and slow uploads",
    )
    parser.add_argument("--queue", type=int, default=16, help="soak: server --queue")
    parser.add_argument("--timeout", type=float, default=10, help="soak: server --timeout")
    args = parser.parse_args()
    if args.soak is not None:
        if "--concurrency" not in sys.argv:
            args.concurrency = 32
        run_soak(args)
        return

    images = _images()
    runs = [run for threads in ("", "1") for run in _measure(images, args, threads)]
    by = {(r["model"], r["torch_threads"]): r["throughput_rps"] for r in runs}
    report(
        "serve",
        {
            "requests": args.requests,
            "concurrency": args.concurrency,
            "server_workers": args.workers,
            "model": "the shipped words and captcha models (sequence, greedy), cpu",
            "runs": runs,
            "throughput_ratio_1_thread_vs_default": {
                m: round(by[(m, "1")] / by[(m, "default")], 2) for m in MODELS
            },
        },
        packages=("torch", "fastapi", "uvicorn", "httpx2"),
    )


if __name__ == "__main__":
    main()
