"""Where the trainings of a sweep or a study run: one interface, local processes or Ray tasks.

Every run is its own OS process (:mod:`.launch`), so a crash or a hung env never takes another run with
it, and Ctrl-C is forwarded as one SIGINT per training, which checkpoints and exits 130. An executor
starts a :class:`Job`, tells how it ended (:class:`Ended`) and asks it to stop; a further backend (say, a
batch scheduler) is one more class with these three methods.

A job is *lost* when it ended by no request of ours and not by itself: its process was killed by a signal
(the OOM killer, a SIGKILL, a SIGTERM from outside), or its Ray task, worker or node died. The caller
resubmits a lost job (the training resumes from its checkpoint); a job that failed on its own is not lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recurrent_rl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, UserError
from recurrent_rl.experiments import launch

TOKEN_HINT = (
    "a cluster started by `ray start --head` (Ray 2.5x) wants RAY_AUTH_MODE=token and its token, from the "
    "head's ~/.ray/auth_token, in RAY_AUTH_TOKEN or this machine's ~/.ray/auth_token"
)


@dataclass(frozen=True)
class Job:
    """One training process: its ``recurrent-rl`` arguments, working folder and log file."""

    args: tuple[str, ...]
    cwd: Path
    log: Path


@dataclass(frozen=True)
class Ended:
    """How a job ended: its exit status (negative: killed by that signal), whether it was lost (see the
    module's docstring) and what happened, in words, when the status alone does not say."""

    code: int
    lost: bool = False
    reason: str = ""


class Executor(ABC):
    """Runs jobs, at most ``slots`` at a time (the caller keeps to it)."""

    slots: int

    @abstractmethod
    def submit(self, job: Job) -> Any:
        """Start ``job``; return a handle for :meth:`poll` and :meth:`cancel`."""

    @abstractmethod
    def poll(self, handle: Any) -> Ended | None:
        """How the job ended, once it has; None while it runs."""

    @abstractmethod
    def cancel(self, handle: Any) -> None:
        """Ask the job to stop: its training checkpoints and ends ``interrupted`` (exit 130)."""

    def close(self) -> None:  # noqa: B027 (optional: most executors hold nothing)
        """Release what the executor holds (all jobs have ended)."""


def ended_process(code: int, cancelled: bool) -> Ended:
    """A training process's exit status: lost when a signal we did not send ended it."""
    if cancelled:
        return Ended(code)
    if code < 0:
        return Ended(code, lost=True, reason=f"killed by signal {_signal_name(-code)}")
    if code == EXIT_INTERRUPTED:
        return Ended(code, lost=True, reason="stopped by a signal that did not come from this command")
    return Ended(code)


def _signal_name(number: int) -> str:
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


def start_process(job: Job) -> subprocess.Popen[bytes]:
    """Start ``job`` in its own session (a terminal's Ctrl-C reaches only the sweep), output to its log."""
    job.log.parent.mkdir(parents=True, exist_ok=True)
    command, env = launch.command(job.args)
    cwd = job.cwd if job.cwd.is_dir() else None  # a Ray node without the folder: its worker's folder
    with job.log.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} recurrent-rl {' '.join(job.args)}\n".encode())
        log.flush()
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def interrupt(process: subprocess.Popen[bytes]) -> None:
    """One SIGINT to the training and its env workers (its process group), as Ctrl-C in a terminal."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)


class LocalExecutor(Executor):
    """Processes on this machine, ``jobs`` at a time."""

    def __init__(self, jobs: int) -> None:
        self.slots = jobs
        self._cancelled: set[int] = set()

    def submit(self, job: Job) -> subprocess.Popen[bytes]:
        return start_process(job)

    def poll(self, handle: subprocess.Popen[bytes]) -> Ended | None:
        code = handle.poll()
        if code is None:
            return None
        cancelled = handle.pid in self._cancelled
        self._cancelled.discard(handle.pid)
        return ended_process(code, cancelled)

    def cancel(self, handle: subprocess.Popen[bytes]) -> None:
        self._cancelled.add(handle.pid)
        interrupt(handle)


def run_job(job: Job) -> int:
    """A job run to its end in this process's care (the body of a Ray task); a cancel becomes a SIGINT."""
    process = start_process(job)
    while True:
        try:
            while process.poll() is None:
                time.sleep(0.2)  # Ray's cancel arrives as KeyboardInterrupt between bytecodes
            return process.returncode
        except KeyboardInterrupt:
            interrupt(process)


class RayExecutor(Executor):
    """Ray tasks of one CPU each on ``ray.init(address)`` (None: a new local Ray instance).

    Ray does not retry the tasks itself (``max_retries=0``): the caller resubmits a lost one, so that it
    resumes from its checkpoint, on any live node, and says so."""

    def __init__(self, address: str | None, jobs: int | None) -> None:
        try:
            import ray
        except ImportError:
            raise UserError("--ray needs Ray: pip install 'ray[default]'") from None
        self._ray = ray
        options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
        if address is None:
            options.update(include_dashboard=False, num_cpus=jobs)
        try:
            ray.init(address=address, **options)
        except (ConnectionError, ValueError, RuntimeError, ray.exceptions.RayError) as error:
            problem = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            hint = f"; {TOKEN_HINT}" if address else ""
            raise UserError(f"--ray {address or ''}: cannot start or reach Ray ({problem}){hint}") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = jobs or max(cpus, 1)
        self._task = ray.remote(num_cpus=1, max_retries=0)(run_job)
        self._cancelled: set[Any] = set()

    def submit(self, job: Job) -> Any:
        return self._task.remote(job)

    def poll(self, handle: Any) -> Ended | None:
        ready, _ = self._ray.wait([handle], timeout=0)
        if not ready:
            return None
        cancelled = handle in self._cancelled
        self._cancelled.discard(handle)
        exceptions = self._ray.exceptions
        try:
            status: int = self._ray.get(handle)
        except exceptions.TaskCancelledError:
            return Ended(EXIT_INTERRUPTED)
        except exceptions.RayTaskError as error:  # the task's own code raised: not lost
            return Ended(EXIT_INTERNAL, reason=_first_line(error.cause or error))
        except exceptions.RayError as error:  # its worker or node died, its result was lost
            return Ended(EXIT_INTERNAL, lost=not cancelled, reason=_first_line(error))
        return ended_process(status, cancelled)

    def cancel(self, handle: Any) -> None:
        self._cancelled.add(handle)
        self._ray.cancel(handle)

    def close(self) -> None:
        self._ray.shutdown()


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
