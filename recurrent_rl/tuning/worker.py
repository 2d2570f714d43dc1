"""A worker: one process running trials of a study until it has ``trials`` finished ones.

Before each trial the worker fails stale trials (those of killed workers: see :mod:`.study`), counts the
finished (COMPLETE + PRUNED) and running ones, and starts a trial only if fewer than ``trials`` are
finished or running; while the running ones could still bring the study to its count it waits. Workers
on one machine take a file lock around count-and-start, so they never start one trial too many; workers
on other machines can, rarely: the later trial then sees the count reached and ends FAIL at once, marked
``surplus``. Ctrl-C stops the running trial (its run ends ``interrupted``, the trial FAIL) and the worker.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState

from recurrent_rl.errors import EXIT_INTERNAL, EXIT_OK
from recurrent_rl.tuning.objective import TrialObjective, base_evaluations
from recurrent_rl.tuning.space import SearchSpace
from recurrent_rl.tuning.study import FINISHED_STATES, TuneSettings, counts, make_storage, open_study

WAIT_SECONDS = 2.0
MAX_FAILURES_IN_A_ROW = 3
ASK_LOCK = ".ask.lock"


class Surplus(Exception):
    """The study had its count of finished and running trials when this trial started."""


class _AskLock:
    """An flock held from the count to the start of a trial (released by the trial once it has started)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[_AskLock]:
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            yield self
        finally:
            self.release()

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


def run_worker(
    settings: TuneSettings, space: SearchSpace, pruner: optuna.pruners.BasePruner | None = None
) -> int:
    """Run trials until the study has ``settings.trials`` finished ones (or the deadline); exit status."""
    objective = TrialObjective(settings, space)
    study = open_study(settings, make_storage(settings.storage), base_evaluations(objective.base))
    if pruner is not None:
        study.pruner = pruner
    optuna.logging.set_verbosity(optuna.logging.INFO)  # "Trial N finished ..." lines in the worker's log
    lock = _AskLock(settings.study_dir / ASK_LOCK)
    gate = _Gate(objective, lock, settings.trials)
    stop = MaxTrialsCallback(settings.trials, states=FINISHED_STATES)
    failures = 0
    while settings.deadline is None or time.time() < settings.deadline:
        with lock.held():
            optuna.storages.fail_stale_trials(study)
            now = counts(study.get_trials(deepcopy=False))
            if now.finished >= settings.trials:
                return EXIT_OK
            if now.finished + now.running >= settings.trials:
                lock.release()
                time.sleep(WAIT_SECONDS)  # a running trial may still fail
                continue
            gate.started = None
            study.optimize(gate, n_trials=1, catch=(Exception,), callbacks=[stop])
        failures = failures + 1 if _state(study, gate.started) == TrialState.FAIL else 0
        if failures >= MAX_FAILURES_IN_A_ROW:
            print(
                f"recurrent-rl: {failures} trials in a row failed; this worker stops (see the trials' "
                "run folders and the log above)",
                file=sys.stderr,
            )
            return EXIT_INTERNAL
    return EXIT_OK


class _Gate:
    """The objective as a worker runs it: first release the ask lock, and refuse a surplus trial."""

    def __init__(self, objective: TrialObjective, lock: _AskLock, n_trials: int) -> None:
        self.objective, self.lock, self.n_trials = objective, lock, n_trials
        self.started: int | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        self.lock.release()
        self.started = trial.number
        before = counts(trial.study.get_trials(deepcopy=False), below=trial.number)
        if before.finished + before.running >= self.n_trials:
            trial.set_user_attr("surplus", f"the study had {self.n_trials} trials finished or running")
            raise Surplus(f"trial {trial.number}: the study had its {self.n_trials} trials")
        return self.objective(trial)


def _state(study: optuna.Study, number: int | None) -> TrialState:
    """The state of the trial this worker just ran (FAIL when none started)."""
    if number is None:
        return TrialState.FAIL
    return next(t.state for t in study.get_trials(deepcopy=False) if t.number == number)
