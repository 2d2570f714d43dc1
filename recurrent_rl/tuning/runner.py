"""Running a study, top to bottom: create or load it, start the workers (local processes or Ray tasks),
print each trial as it ends, forward Ctrl-C, then write the study's outputs and a summary.

Each worker is ``recurrent-rl tune ... --worker`` in its own process, started through the sweep's
executors (:mod:`recurrent_rl.experiments.executors`): a worker that dies takes no other with it, and a
worker whose parent dies is sent SIGTERM. Ctrl-C (or SIGTERM) sends one SIGINT to every worker: the
running trials checkpoint, end ``interrupted`` and are marked FAIL; the same command continues the study.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from recurrent_rl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, UserError
from recurrent_rl.experiments.executors import Executor, Job
from recurrent_rl.training.signals import signals_as_interrupt
from recurrent_rl.tuning.outputs import BEST_YAML, write_outputs
from recurrent_rl.tuning.study import TuneSettings, check_same_study, counts, make_storage, open_study

POLL_SECONDS = 0.5
SHOW_SECONDS = 2.0
WORKERS = "workers"  # <study folder>/workers/<host>-<pid>-<i>.log


def run_study(
    settings: TuneSettings,
    worker_args: list[str],
    make_executor: Callable[[], Executor],
    identity: dict[str, Any],
    n_evaluations: int,
) -> int:
    """Run the study to ``settings.trials`` finished trials (or the deadline, or Ctrl-C); exit status."""
    local = settings.storage.startswith("sqlite")  # its file is in the study folder
    if local:
        settings.study_dir.mkdir(parents=True, exist_ok=True)
    storage = make_storage(settings.storage)  # a database that cannot be reached: nothing written
    settings.study_dir.mkdir(parents=True, exist_ok=True)
    study = open_study(settings, storage, n_evaluations)
    check_same_study(study, identity)
    before = counts(study.get_trials(deepcopy=False))
    print(
        f"study {settings.study}: {before.finished} of {settings.trials} trials finished; "
        f"folder {settings.study_dir}",
        file=sys.stderr,
    )
    interrupted = False
    codes: list[int] = []
    if before.finished < settings.trials:
        executor = make_executor()
        try:
            interrupted, codes = _Workers(executor, settings, study, worker_args).run()
        finally:
            executor.close()
    return _finish(study, settings, interrupted, codes)


class _Workers:
    """Starts the workers, prints trials as they end, stops the workers on Ctrl-C."""

    def __init__(self, executor: Executor, settings: TuneSettings, study: optuna.Study, args: list[str]):
        self.executor, self.settings, self.study, self.args = executor, settings, study, args
        self.shown = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
        self.handles: dict[int, Any] = {}
        self.codes: list[int] = []

    def run(self) -> tuple[bool, list[int]]:
        """Until every worker has ended: True when interrupted, and the workers' exit statuses."""
        prefix = f"{socket.gethostname()}-{os.getpid()}"
        where = self.settings.study_dir / WORKERS
        with signals_as_interrupt():
            try:
                for i in range(self.executor.slots):
                    log = where / f"{prefix}-{i}.log"
                    self.handles[i] = self.executor.submit(Job(tuple(self.args), Path.cwd(), log))
                print(f"{len(self.handles)} worker(s); logs in {where}", file=sys.stderr)
                shown_at = 0.0
                while self.handles:
                    self._reap()
                    if time.monotonic() - shown_at > SHOW_SECONDS:
                        self._show()
                        shown_at = time.monotonic()
                    time.sleep(POLL_SECONDS)
            except KeyboardInterrupt:
                self._stop()
                self._show()
                return True, self.codes
        self._show()
        return False, self.codes

    def _reap(self) -> None:
        for i, handle in list(self.handles.items()):
            code = self.executor.poll(handle)
            if code is None:
                continue
            del self.handles[i]
            self.codes.append(code)
            if code not in (EXIT_OK, EXIT_INTERRUPTED):
                ended = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
                print(f"worker {i} ended: {ended} (its trial, if any, fails by heartbeat)", file=sys.stderr)

    def _stop(self) -> None:
        """One SIGINT per worker (another per further Ctrl-C); wait until all have ended."""
        print("recurrent-rl: stopping the workers (their trials end interrupted)", file=sys.stderr)
        for handle in self.handles.values():
            self.executor.cancel(handle)
        while self.handles:
            try:
                self._reap()
                time.sleep(POLL_SECONDS / 5)
            except KeyboardInterrupt:
                for handle in self.handles.values():
                    self.executor.cancel(handle)

    def _show(self) -> None:
        """One line per trial that ended since the last look."""
        trials = self.study.get_trials(deepcopy=False)
        for trial in trials:
            if not trial.state.is_finished() or trial.number in self.shown:
                continue
            self.shown.add(trial.number)
            print(describe(trial), file=sys.stderr)


def describe(trial: optuna.trial.FrozenTrial) -> str:
    """``trial 0003 COMPLETE 0.85  (trial_0003, 41 s) ...`` with why it was pruned or failed."""
    value = f"{trial.value:.4g}" if trial.value is not None else "-"
    seconds = trial.duration.total_seconds() if trial.duration is not None else 0.0
    attrs = trial.user_attrs
    why = attrs.get("rejected") or attrs.get("surplus") or attrs.get("message") or ""
    if trial.state.name == "FAIL" and not why:
        why = "its worker stopped (killed or interrupted)"
    said = f"  {why}" if why and trial.state.name != "COMPLETE" else ""
    constrained = f"  constrained: {attrs['constrained']}" if attrs.get("constrained") else ""
    return f"trial {trial.number:04d} {trial.state.name:<8} {value:>8}  ({seconds:.0f} s){constrained}{said}"


def _finish(study: optuna.Study, settings: TuneSettings, interrupted: bool, codes: list[int]) -> int:
    notes = write_outputs(study, settings)
    now = counts(study.get_trials(deepcopy=False))
    print(
        f"{now.finished} of {settings.trials} trials finished ({now.complete} complete, {now.pruned} "
        f"pruned), {now.failed} failed, {now.running} running",
        file=sys.stderr,
    )
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if now.complete:
        best = study.best_trial
        print(f"best: trial {best.number}, value {best.value:.6g}", file=sys.stderr)
    print(settings.study_dir / BEST_YAML if now.complete else settings.study_dir)
    if interrupted:
        print("recurrent-rl: interrupted; the same command continues the study", file=sys.stderr)
        return EXIT_INTERRUPTED
    past_deadline = settings.deadline is not None and time.time() >= settings.deadline
    if now.finished >= settings.trials or past_deadline:
        return EXIT_OK
    failed = [code for code in codes if code != EXIT_OK]
    why = f"workers ended with status {', '.join(map(str, failed))}" if failed else "the workers stopped"
    print(
        f"recurrent-rl: {now.finished} of {settings.trials} trials finished ({why}); "
        "the same command continues the study",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def check_writable(study_dir: Path) -> None:
    """A UserError unless the study folder can be created (before anything is written)."""
    parent = study_dir
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"{study_dir}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{study_dir}: {parent} is not writable")
