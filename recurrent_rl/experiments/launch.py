"""What makes a training process safe to start from a sweep or the tuner.

Such a process is the ``recurrent-rl`` program itself (``python -m recurrent_rl train ...``), started with
:data:`PARENT` in its environment; ``recurrent_rl/__main__.py`` then calls :func:`prepare_child` before the
command line runs. Two differences from a terminal: Ctrl-C and SIGTERM reach the training even when the
starting process blocked or ignored them (Ray workers do), and the training is sent SIGTERM (it checkpoints
and ends ``interrupted``) when the process that started it dies, even by SIGKILL (Linux; elsewhere it trains
on to the end).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from recurrent_rl.errors import EXIT_INTERRUPTED

PARENT = "RECURRENT_RL_SWEEP_PARENT"  # the pid of the process that started us
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    expected = os.environ.get(PARENT)
    if expected is not None and os.getppid() != int(expected):  # it died before prctl
        sys.exit(EXIT_INTERRUPTED)


def started_by_sweep() -> bool:
    """Whether this process was started by a sweep or the tuner (see :func:`command`)."""
    return PARENT in os.environ


def prepare_child() -> None:
    """Default Ctrl-C and SIGTERM handling, unblocked, and SIGTERM when the starting process dies."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    _die_with_parent()


def command(args: tuple[str, ...] | list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a training process started by this process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env[PARENT] = str(os.getpid())
    return [sys.executable, "-m", "recurrent_rl", *args], env
