"""Where the trainings of a sweep run: one interface, local processes or Ray tasks.

Every run is its own OS process (:mod:`.launch`), so a crash or a hung env never takes another run with
it, and Ctrl-C is forwarded as one SIGINT per training, which checkpoints and exits 130. An executor
starts a :class:`Job`, tells whether it has ended (its exit status) and asks it to stop; a further backend
(say, a batch scheduler) is one more class with these three methods.
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


@dataclass(frozen=True)
class Job:
    """One training process: its ``recurrent-rl`` arguments, working folder and log file."""

    args: tuple[str, ...]
    cwd: Path
    log: Path


class Executor(ABC):
    """Runs jobs, at most ``slots`` at a time (the caller keeps to it)."""

    slots: int

    @abstractmethod
    def submit(self, job: Job) -> Any:
        """Start ``job``; return a handle for :meth:`poll` and :meth:`cancel`."""

    @abstractmethod
    def poll(self, handle: Any) -> int | None:
        """The job's exit status once it has ended (negative: killed by that signal), else None."""

    @abstractmethod
    def cancel(self, handle: Any) -> None:
        """Ask the job to stop: its training checkpoints and ends ``interrupted`` (exit 130)."""

    def close(self) -> None:  # noqa: B027 (optional: most executors hold nothing)
        """Release what the executor holds (all jobs have ended)."""


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

    def submit(self, job: Job) -> subprocess.Popen[bytes]:
        return start_process(job)

    def poll(self, handle: subprocess.Popen[bytes]) -> int | None:
        return handle.poll()

    def cancel(self, handle: subprocess.Popen[bytes]) -> None:
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
    """Ray tasks of one CPU each on ``ray.init(address)`` (None: a new local Ray instance)."""

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
        except (ConnectionError, ValueError, RuntimeError) as error:
            raise UserError(f"--ray {address or ''}: cannot start or reach Ray ({error})".strip()) from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = jobs or max(cpus, 1)
        self._task = ray.remote(num_cpus=1, max_retries=0)(run_job)

    def submit(self, job: Job) -> Any:
        return self._task.remote(job)

    def poll(self, handle: Any) -> int | None:
        ready, _ = self._ray.wait([handle], timeout=0)
        if not ready:
            return None
        try:
            status: int = self._ray.get(handle)
        except self._ray.exceptions.TaskCancelledError:
            return EXIT_INTERRUPTED
        except self._ray.exceptions.RayError:  # the worker or node died
            return EXIT_INTERNAL
        return status

    def cancel(self, handle: Any) -> None:
        self._ray.cancel(handle)

    def close(self) -> None:
        self._ray.shutdown()
