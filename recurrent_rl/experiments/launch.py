"""The process of one sweep run: ``python -m recurrent_rl.experiments.launch train ...``.

It runs the ``recurrent-rl`` command line in this process, with two differences that make it safe to
start from a sweep: Ctrl-C and SIGTERM reach the training even when the starting process blocked or
ignored them (Ray workers do), and the training is sent SIGTERM (it checkpoints and ends ``interrupted``)
when the process that started it dies, even by SIGKILL (Linux; elsewhere it trains on to the end).
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


def main() -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    _die_with_parent()
    from recurrent_rl.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
