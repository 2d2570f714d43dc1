"""How several ``tune`` commands share one study: heartbeats for the trials a command runs, and a lock
around count-and-ask for the commands on one machine.

A command records a heartbeat for each of its running trials every :data:`~.study.HEARTBEAT_SECONDS`, from
a thread of its own; a trial whose command was killed or whose machine was lost goes silent, and the next
command that looks fails it (and queues it once more) after :data:`~.study.GRACE_SECONDS`. Commands on one
machine count the study's trials and ask for a new one under an ``flock``, so they never start one trial
too many; commands on other machines can, rarely: the later trial then ends FAIL at once, ``surplus``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from optuna.storages import BaseStorage
from optuna.storages._heartbeat import BaseHeartbeat

from recurrent_rl.tuning.study import HEARTBEAT_SECONDS

ASK_LOCK = ".ask.lock"  # in the study folder


class Heartbeats:
    """A thread that records a heartbeat for each trial in :attr:`trial_ids` (until :meth:`close`)."""

    def __init__(self, storage: BaseStorage) -> None:
        assert isinstance(storage, BaseHeartbeat)
        self.storage = storage
        self.trial_ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeats", daemon=True)
        self._thread.start()

    def add(self, trial_id: int) -> None:
        self.storage.record_heartbeat(trial_id)
        with self._lock:
            self.trial_ids.add(trial_id)

    def remove(self, trial_id: int) -> None:
        with self._lock:
            self.trial_ids.discard(trial_id)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._lock:
                trial_ids = sorted(self.trial_ids)
            for trial_id in trial_ids:
                with contextlib.suppress(Exception):  # the database is back at the next beat, or never
                    self.storage.record_heartbeat(trial_id)


@contextlib.contextmanager
def ask_lock(study_dir: Path) -> Iterator[None]:
    """Held while this command counts the study's trials and asks for a new one."""
    import fcntl

    fd = os.open(study_dir / ASK_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the flock
