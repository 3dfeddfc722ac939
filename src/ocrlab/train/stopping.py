"""Ctrl-C as a request to stop: a training loop ends its step and keeps what it has learned.

Fine-tuning and the audit measure for minutes; a Ctrl-C that raised `KeyboardInterrupt` in the
middle of a step threw all of it away. While `ctrl_c_stops` is active, the first Ctrl-C only sets
the returned flag, which `ocrlab.train.finetune.fit` checks after every step (as it checks its time
budget); a second one interrupts at once. Outside the main thread (a server, a worker) signals
cannot be caught, and where SIGINT is ignored (a job started with nohup) it stays ignored: the
flag simply stays unset.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopFlag:
    """True once Ctrl-C asked training to stop."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested


@contextmanager
def ctrl_c_stops() -> Iterator[StopFlag]:
    """For the block, the first SIGINT sets the flag; the second raises KeyboardInterrupt."""
    flag = StopFlag()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield flag  # another thread, or SIGINT ignored (nohup) or set outside Python: as it was
        return

    def request(signum: int, frame: FrameType | None) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True
        # os.write, not print: the handler may run while the main thread is inside a print.
        os.write(2, b"ocrlab: stopping after this step (Ctrl-C again to quit at once)\n")

    signal.signal(signal.SIGINT, request)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)
