"""Overload and abuse: a full line answers 503 with Retry-After at once (never a hang), a slow
upload answers 408, a client that leaves mid-upload ends its request without an error, and the
server goes on."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ocrlab.read.predictor import Colour, Predictor, Reading
from ocrlab.serve.app import create_app
from ocrlab.serve.gate import Busy, Gate
from ocrlab.serve.settings import ServeSettings


class _Blocked(Predictor):
    """Reads wait until `release` is set."""

    release = threading.Event()

    def read_batch(
        self, batch: np.ndarray, top_k: int = 5, colour: Colour | None = None
    ) -> list[Reading]:
        self.release.wait(10)
        return super().read_batch(batch, top_k, colour)


def test_the_gate_refuses_beyond_its_line() -> None:
    async def scenario() -> list[str]:
        gate, release = Gate(workers=1, queue=1), threading.Event()
        running = asyncio.ensure_future(gate.run(lambda: release.wait(5)))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(gate.run(lambda: "second"))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await gate.run(lambda: "third")
        release.set()
        results = [str(await running), await waiting]
        gate.close()
        return results

    assert asyncio.run(scenario()) == ["True", "second"]


def test_a_full_line_is_a_quick_503_with_retry_after(predictor: Predictor, png: bytes) -> None:
    blocked = _Blocked(predictor.model, predictor.checkpoint, predictor.device)
    blocked.release.clear()
    settings = ServeSettings(workers=1, queue=1, timeout_s=20)
    app = create_app({"blocked": blocked, "fast": predictor}, settings)
    with TestClient(app) as c, ThreadPoolExecutor(2) as pool:
        first = pool.submit(c.post, "/v1/read", content=png)
        second = pool.submit(c.post, "/v1/read", content=png)
        time.sleep(0.5)  # one read runs, one waits
        start = time.perf_counter()
        r = c.post("/v1/read", content=png)
        assert r.status_code == 503 and r.json()["error"] == "busy"
        assert r.headers["retry-after"] == "1" and time.perf_counter() - start < 2
        blocked.release.set()
        assert first.result().status_code == second.result().status_code == 200
        assert c.post("/v1/read?model=fast", content=png).status_code == 200


async def _trickle(png: bytes, pause: float) -> AsyncIterator[bytes]:
    for i in range(0, len(png), 64):
        await asyncio.sleep(pause)
        yield png[i : i + 64]


def test_a_slow_upload_is_a_408(predictor: Predictor, png: bytes) -> None:
    app = create_app({"words": predictor}, ServeSettings(timeout_s=0.3))
    transport = httpx2.ASGITransport(app=app)

    async def scenario() -> list[int]:
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            slow = await client.post("/v1/read", content=_trickle(png, 0.05))
            fast = await client.post("/v1/read", content=png)
            return [slow.status_code, fast.status_code]

    assert asyncio.run(scenario()) == [408, 200]


def test_a_client_that_leaves_mid_upload_ends_its_request_quietly(
    predictor: Predictor, png: bytes
) -> None:
    app = create_app({"words": predictor}, ServeSettings())
    messages = iter(
        [
            {"type": "http.request", "body": png[:100], "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/read", "raw_path": b"/v1/read", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"test"), (b"content-length", b"%d" % len(png))],
        "client": ("127.0.0.1", 1), "server": ("test", 80), "app": app,
    }  # fmt: skip

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    asyncio.run(scenario())  # raises if the disconnect escaped as an error
    assert sent[0]["status"] == 400 and b"disconnected" in sent[1]["body"]
