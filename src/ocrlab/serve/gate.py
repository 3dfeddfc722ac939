"""Bounded concurrency for reads: a thread pool behind a semaphore, with a bounded line.

Decoding and inference are CPU-bound and release the GIL (Pillow, torch), so they run on a pool of
`workers` threads, never on the event loop. The semaphore admits at most `workers` jobs to the
pool: a request that waits for a slot and runs out of time is never submitted, where a bare pool
would queue it and run it long after its caller gave up. A job whose caller timed out keeps its
slot until it finishes, so the pool is never oversubscribed. Imports the standard library only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the line is full: the caller should come back later."""


class Gate:
    """Run blocking jobs on `workers` threads, at most `workers` at once; at most `queue` more
    wait in line, and beyond that `run` raises `Busy` at once. A bounded line turns overload into
    a quick refusal (HTTP 503) rather than requests that hang until their timeout."""

    def __init__(self, workers: int, queue: int | None = None) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="ocrlab-read")
        self._slots = asyncio.Semaphore(workers)
        self._queue, self._waiting = queue, 0

    async def run(self, job: Callable[[], T]) -> T:
        """Wait for a slot, then run `job` on the pool; cancelling the caller leaves it running."""
        if self._queue is not None and self._slots.locked() and self._waiting >= self._queue:
            raise Busy
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        future = asyncio.get_running_loop().run_in_executor(self._pool, job)
        future.add_done_callback(self._release)
        return await asyncio.shield(future)

    def _release(self, future: asyncio.Future[T]) -> None:
        self._slots.release()
        if not future.cancelled():
            future.exception()  # marks an abandoned job's error as seen, so asyncio does not log it

    def close(self) -> None:
        """Drop queued jobs and wait for running ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)
