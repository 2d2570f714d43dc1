"""A sweep's trainings, scheduled: start runs while slots are free (seed by seed), reap the ended ones, keep
the index current, and stop them all on Ctrl-C.

A run whose job was lost (its process killed by a signal not ours, its Ray task, worker or node dead: see
:mod:`.executors`) is resubmitted, up to ``retries`` times: it resumes from its newest checkpoint (or starts
again when it had none), on any live node, once no process holds its folder. A run that fails on its own
(a crash in the env, NaN) is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recurrent_rl.artifacts import records
from recurrent_rl.experiments import plan
from recurrent_rl.experiments.executors import Ended, Executor, Job
from recurrent_rl.experiments.plan import Run
from recurrent_rl.experiments.progress import Counts, Progress, Running, current_timesteps
from recurrent_rl.training.signals import deferred_interrupt

POLL_SECONDS = 0.5


def poll_until_done(step: Callable[[], bool], stop: Callable[[], None]) -> bool:
    """Call ``step`` every :data:`POLL_SECONDS` until it returns False; on Ctrl-C or SIGTERM call ``stop``
    and return True. A signal waits until ``step`` has returned: no job is left half started or reaped."""
    try:
        while True:
            with deferred_interrupt():
                if not step():
                    return False
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        stop()
        return True


def wait_for_trainings(
    cancel_all: Callable[[], None], reap: Callable[[], None], busy: Callable[[], bool]
) -> None:
    """Cancel every training (one SIGINT each), then reap until none is ``busy``; each further Ctrl-C
    cancels them again. Reaping waits for a signal to be handled first, as in :func:`poll_until_done`."""
    cancel_all()
    while busy():
        try:
            with deferred_interrupt():
                reap()
            time.sleep(POLL_SECONDS / 5)
        except KeyboardInterrupt:
            cancel_all()


@dataclass
class _Active:
    run: Run
    handle: Any


class Scheduler:
    """Starts runs while slots are free, reaps and resubmits, and stops them all on Ctrl-C."""

    def __init__(
        self,
        executor: Executor,
        sweep_dir: Path,
        runs: list[Run],
        states: dict[str, tuple[str, str]],
        retries: int,
    ) -> None:
        self.executor, self.sweep_dir, self.runs, self.states = executor, sweep_dir, runs, states
        self.max_retries = retries
        self.retries: dict[str, int] = {}  # folder -> resubmissions after a lost job
        self.queue: list[Run] = []
        self.active: list[_Active] = []
        self.stopping = False
        self.progress = Progress()
        self.announced_busy: set[str] = set()

    def run(self, order: list[Run]) -> bool:
        """Train the runs of ``order`` not finished yet; True when interrupted."""
        self.queue = [run for run in order if self.states[run.folder][0] not in records.FINISHED]
        done = len(order) - len(self.queue)
        self._event(f"{done} of {len(order)} runs already finished, {len(self.queue)} to run")
        try:
            return poll_until_done(self._step, self._stop)
        finally:
            self.progress.close()

    def _step(self) -> bool:
        self._reap()
        self._fill()
        self._show()
        return bool(self.queue or self.active)

    def _fill(self) -> None:
        for run in list(self.queue):
            if len(self.active) >= self.executor.slots:
                return
            run_dir = self.sweep_dir / run.folder
            action = plan.next_action(run_dir)
            if action == "busy":  # another process (or our lost job's training) still holds it
                if run.folder not in self.announced_busy:
                    self._event(f"waiting for {run.folder}: another process is training it")
                    self.announced_busy.add(run.folder)
                continue
            self.queue.remove(run)
            if action == "skip":
                self._set(run, plan.run_status(run_dir), f"{run.folder} already finished")
                continue
            if action == "restart":
                plan.discard(run_dir, self.sweep_dir)
            where = self.sweep_dir.absolute()  # the trainings may run in another folder (Ray nodes)
            args = run.resume_args(where) if action == "resume" else run.train_args(where)
            handle = self.executor.submit(Job(tuple(args), Path.cwd(), self._log(run)))
            self.active.append(_Active(run, handle))
            verb = {"resume": "resumed", "restart": "restarted (no checkpoint)"}.get(action, "started")
            self._set(run, ("running", ""), f"{verb} {run.folder}")

    def _reap(self) -> None:
        for active in list(self.active):
            ended = self.executor.poll(active.handle)
            if ended is None:
                continue
            self.active.remove(active)
            run = active.run
            if ended.lost and self._retry(run, ended.reason):
                continue
            status, message = self._outcome(run, ended)
            said = f": {message}" if message and message != status else ""
            self._set(run, (status, message), f"{run.folder} {status}{said}")

    def _outcome(self, run: Run, ended: Ended) -> tuple[str, str]:
        status, message = plan.outcome(self.sweep_dir / run.folder, self._log(run), ended.code, ended.reason)
        used = self.retries.get(run.folder, 0)
        if ended.lost:
            return "failed", (
                f"{ended.reason}; its job was lost {used + 1} times, no retry left (--retries "
                f"{self.max_retries}); the same command resumes it"
            )
        if used and status in records.FINISHED and not message:
            message = f"finished after {used} retr{'y' if used == 1 else 'ies'} (its job was lost)"
        return status, message

    def _retry(self, run: Run, reason: str) -> bool:
        """Queue ``run`` again (first in line) unless stopping or out of retries."""
        used = self.retries.get(run.folder, 0)
        if self.stopping or used >= self.max_retries:
            return False
        self.retries[run.folder] = used + 1
        self.queue.insert(0, run)
        self.announced_busy.discard(run.folder)
        retry = f"retry {used + 1} of {self.max_retries}"
        self._set(run, ("pending", f"lost ({reason}); {retry}"), f"{run.folder} lost: {reason}; {retry}")
        return True

    def _stop(self) -> None:
        """One SIGINT per running training (another per further Ctrl-C); wait until all have ended."""
        self.stopping = True
        wait_for_trainings(self._cancel_all, self._reap, lambda: bool(self.active))

    def _cancel_all(self) -> None:
        for active in self.active:
            self.executor.cancel(active.handle)

    def _log(self, run: Run) -> Path:
        return self.sweep_dir / plan.LOGS / f"{run.folder}.log"

    def _set(self, run: Run, state: tuple[str, str], line: str) -> None:
        self.states[run.folder] = state
        plan.write_index(self.sweep_dir, self.runs, self.states, self.retries)
        self._event(line)

    def _counts(self) -> Counts:
        statuses = [status for status, _ in self.states.values()]
        finished = sum(status in records.FINISHED for status in statuses)
        failed, interrupted = statuses.count("failed"), statuses.count("interrupted")
        return Counts(len(statuses), finished, len(self.active), failed, interrupted)

    def _event(self, line: str) -> None:
        self.progress.event(line, self._counts())

    def _show(self) -> None:
        running = [
            Running(
                a.run.folder,
                current_timesteps(self.sweep_dir / a.run.folder),
                a.run.total_timesteps,
                self.retries.get(a.run.folder, 0),
            )
            for a in self.active
        ]
        self.progress.update(self._counts(), running)
