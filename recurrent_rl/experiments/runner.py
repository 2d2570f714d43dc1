"""Running a sweep, top to bottom: check it against its folder, record it, train every run that has not
finished (at most ``slots`` at once, seed by seed), keep the index current, print a table of every run.

One failing run never stops the others. Ctrl-C (or SIGTERM) sends one SIGINT to every running training,
which checkpoints and ends ``interrupted``; running the same command again completes the sweep.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recurrent_rl.artifacts import records, run_folder
from recurrent_rl.artifacts.atomic import atomic_write_text
from recurrent_rl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, UserError
from recurrent_rl.experiments import plan
from recurrent_rl.experiments.executors import Executor, Job
from recurrent_rl.experiments.plan import Run
from recurrent_rl.experiments.progress import Counts, Progress, Running, current_timesteps
from recurrent_rl.experiments.sweep_file import Sweep, check_unchanged, stored_sweep
from recurrent_rl.training.signals import signals_as_interrupt

POLL_SECONDS = 0.5
NOT_FINISHED = ("failed", "interrupted")


@dataclass
class _Active:
    run: Run
    handle: Any


def prepare(sweep: Sweep, runs_dir: Path) -> tuple[Path, list[Run]]:
    """The sweep folder and the runs; a UserError if the folder holds a different sweep."""
    sweep_dir = sweep.folder(runs_dir)
    stored = stored_sweep(sweep_dir)
    if stored is not None:
        check_unchanged(sweep, stored, sweep_dir)
    return sweep_dir, plan.plan_runs(sweep)


def dry_run(sweep: Sweep, runs_dir: Path) -> int:
    """Print what running the sweep would do with each run; write nothing."""
    sweep_dir, runs = prepare(sweep, runs_dir)
    rows = [("action", "run", "config", "seed")]
    for run in runs:
        config = os.path.relpath(run.config_path)
        rows.append((plan.next_action(sweep_dir / run.folder), run.folder, config, str(run.seed)))
    _print_table(rows)
    print(f"{len(runs)} runs in {sweep_dir}")
    return EXIT_OK


def run_sweep(sweep: Sweep, runs_dir: Path, make_executor: Callable[[], Executor]) -> int:
    """Train the sweep to the end (or to Ctrl-C); the exit status: 0 all finished, 1 not, 130 interrupted."""
    sweep_dir, runs = prepare(sweep, runs_dir)
    executor = make_executor()  # before anything is written: Ray may refuse
    try:
        _make_folder(sweep_dir)
        with _sweep_lock(sweep_dir), signals_as_interrupt():
            atomic_write_text(sweep_dir / plan.RESOLVED, yaml.safe_dump(sweep.resolved(), sort_keys=False))
            states = {run.folder: plan.run_status(sweep_dir / run.folder) for run in runs}
            plan.write_index(sweep_dir, runs, states)
            order = plan.execution_order(runs, list(sweep.spec.seeds))
            scheduler = _Scheduler(executor, sweep_dir, runs, states)
            interrupted = scheduler.run(order)
    finally:
        executor.close()
    return _finish(sweep_dir, runs, states, interrupted)


def _make_folder(sweep_dir: Path) -> None:
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"--runs-dir: cannot create {sweep_dir} ({error.strerror})") from None


@contextlib.contextmanager
def _sweep_lock(sweep_dir: Path) -> Iterator[None]:
    """Held while this process runs the sweep: a second sweep process on the folder is refused."""
    if run_folder.is_locked(sweep_dir):
        raise UserError(f"{sweep_dir}: another process is running this sweep right now")
    with run_folder.run_lock(sweep_dir):
        yield


class _Scheduler:
    """Starts runs while slots are free, reaps the ended ones, and stops them all on Ctrl-C."""

    def __init__(
        self, executor: Executor, sweep_dir: Path, runs: list[Run], states: dict[str, tuple[str, str]]
    ) -> None:
        self.executor, self.sweep_dir, self.runs, self.states = executor, sweep_dir, runs, states
        self.active: list[_Active] = []
        self.progress = Progress()
        self.announced_busy: set[str] = set()

    def run(self, order: list[Run]) -> bool:
        """Train the queue; True when interrupted."""
        queue = [run for run in order if self.states[run.folder][0] not in records.FINISHED]
        self._event(f"{len(order) - len(queue)} of {len(order)} runs already finished, {len(queue)} to run")
        try:
            while queue or self.active:
                self._reap()
                self._fill(queue)
                self._show()
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            self._stop()
            return True
        finally:
            self.progress.close()
        return False

    def _fill(self, queue: list[Run]) -> None:
        for run in list(queue):
            if len(self.active) >= self.executor.slots:
                return
            run_dir = self.sweep_dir / run.folder
            action = plan.next_action(run_dir)
            if action == "busy":
                if run.folder not in self.announced_busy:
                    self._event(f"waiting for {run.folder}: another process is training it")
                    self.announced_busy.add(run.folder)
                continue
            queue.remove(run)
            if action == "skip":
                self._set(run, plan.run_status(run_dir), f"{run.folder} already finished")
                continue
            if action == "restart":
                plan.discard(run_dir, self.sweep_dir)
            where = self.sweep_dir.absolute()  # the trainings may run in another folder (Ray nodes)
            args = run.resume_args(where) if action == "resume" else run.train_args(where)
            log = self.sweep_dir / plan.LOGS / f"{run.folder}.log"
            self.active.append(_Active(run, self.executor.submit(Job(tuple(args), Path.cwd(), log))))
            verb = {"resume": "resumed", "restart": "restarted (no checkpoint)"}.get(action, "started")
            self._set(run, ("running", ""), f"{verb} {run.folder}")

    def _reap(self) -> None:
        for active in list(self.active):
            code = self.executor.poll(active.handle)
            if code is None:
                continue
            self.active.remove(active)
            status, message = _outcome(self.sweep_dir, active.run, code)
            said = f": {message}" if message and message != status else ""
            self._set(active.run, (status, message), f"{active.run.folder} {status}{said}")

    def _stop(self) -> None:
        """One SIGINT per running training (another per further Ctrl-C); wait until all have ended."""
        for active in self.active:
            self.executor.cancel(active.handle)
        while self.active:
            try:
                self._reap()
                time.sleep(POLL_SECONDS / 5)
            except KeyboardInterrupt:
                for active in self.active:
                    self.executor.cancel(active.handle)

    def _set(self, run: Run, state: tuple[str, str], line: str) -> None:
        self.states[run.folder] = state
        plan.write_index(self.sweep_dir, self.runs, self.states)
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
            Running(a.run.folder, current_timesteps(self.sweep_dir / a.run.folder), a.run.total_timesteps)
            for a in self.active
        ]
        self.progress.update(self._counts(), running)


def _outcome(sweep_dir: Path, run: Run, code: int) -> tuple[str, str]:
    """How a run's process ended: its summary's status, or what the exit status and log say."""
    status, message = plan.run_status(sweep_dir / run.folder)
    if status in records.FINISHED:
        return status, message
    if status not in NOT_FINISHED:  # it ended without recording how (killed, or refused to start)
        status, message = ("interrupted" if code == EXIT_INTERRUPTED else "failed"), ""
    ended = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
    return status, message or _last_message(sweep_dir / plan.LOGS / f"{run.folder}.log") or ended


def _last_message(log: Path) -> str:
    """The last ``recurrent-rl: ...`` line of a run's log."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    said = [line.removeprefix("recurrent-rl: ") for line in lines if line.startswith("recurrent-rl: ")]
    return said[-1] if said else ""


def _finish(sweep_dir: Path, runs: list[Run], states: dict[str, tuple[str, str]], interrupted: bool) -> int:
    rows = [("run", "status", "timesteps", "message")]
    for run in runs:
        status, message = states[run.folder]
        steps = _timesteps(sweep_dir / run.folder) if status != "pending" else "-"
        rows.append((run.folder, status, steps, message))
    _print_table(rows)
    print(sweep_dir)
    unfinished = sum(states[run.folder][0] not in records.FINISHED for run in runs)
    if interrupted:
        print(
            f"recurrent-rl: interrupted; the same command continues ({unfinished} runs left)", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    if unfinished:
        message = f"{unfinished} of {len(runs)} runs did not finish; the same command resumes them"
        print(f"recurrent-rl: {message}", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


def _timesteps(run_dir: Path) -> str:
    try:
        summary = records.read_summary(run_dir)
    except UserError:
        return "-"
    return f"{summary.total_timesteps:,}" if summary is not None else "-"


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
