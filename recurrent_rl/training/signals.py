"""SIGINT (Ctrl-C) and SIGTERM as KeyboardInterrupt, recorded, so training can checkpoint and exit 130; and
held back through a block that must not stop halfway."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Signals:
    """The interrupting signals received so far."""

    received: list[int] = field(default_factory=list)


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[Signals]:
    """Within the block, SIGINT and SIGTERM raise KeyboardInterrupt (main thread only) and are recorded."""
    signals = Signals()
    if threading.current_thread() is not threading.main_thread():
        yield signals
        return

    def handler(signum: int, frame: Any) -> None:
        signals.received.append(signum)
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield signals
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Ctrl-C or SIGTERM within the block raise KeyboardInterrupt once the block has ended (main thread)."""
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
    if received:
        raise KeyboardInterrupt
