"""Asking a training to stop at its next evaluation (the tuner pruning a trial).

The tuner writes a *stop file* (:func:`request_stop`); the training, started with ``--stop-file PATH``, reads
it after each evaluation (:class:`StopFile`, its ``after_eval`` hook) and ends ``stopped_early`` with the
file's text as its message. A file, not a signal: it reaches a training on any node that sees the runs
folder, and a signal would end the run ``interrupted``.
"""

from __future__ import annotations

from pathlib import Path

from recurrent_rl.artifacts.atomic import atomic_write_text
from recurrent_rl.artifacts.records import EvalRecord

STOP_FILE = "stop_request.txt"  # in the run folder


class StopFile:
    """A training's ``after_eval`` hook: once ``path`` exists, its text is the reason to stop."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, record: EvalRecord) -> str | None:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as error:
            return f"stopped on request ({self.path}: {error.strerror})"
        return text or "stopped on request"


def request_stop(path: Path, reason: str) -> None:
    """Ask the training watching ``path`` to stop at its next evaluation, with ``reason`` as its message."""
    atomic_write_text(path, reason + "\n")
