"""Running a study, top to bottom: check the study folder and the storage, create or join the study (its
identity checked), run trials (:mod:`.scheduler`) until the study has its count (or the deadline, or
Ctrl-C), then write the study's outputs and a summary.

The trainings are ``recurrent-rl train`` processes started through the sweep's executors
(:mod:`recurrent_rl.experiments.executors`): locally or as Ray tasks. Only this command talks to the
storage; a training reports through its run folder.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from recurrent_rl.config.loader import LoadedConfig
from recurrent_rl.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, UserError
from recurrent_rl.experiments.executors import Executor
from recurrent_rl.tuning.folder import check_marker, check_new_study, check_sqlite, claim_folder, sqlite_path
from recurrent_rl.tuning.identity import check_same_study
from recurrent_rl.tuning.objective import base_evaluations
from recurrent_rl.tuning.outputs import BEST_YAML, write_outputs
from recurrent_rl.tuning.scheduler import MAX_FAILURES_IN_A_ROW, StudyScheduler
from recurrent_rl.tuning.space import SearchSpace
from recurrent_rl.tuning.study import TuneSettings, counts, make_storage, open_study, study_exists


def run_study(
    settings: TuneSettings,
    make_executor: Callable[[], Executor],
    identity: dict[str, Any],
    base: LoadedConfig,
    space: SearchSpace,
    pruner: optuna.pruners.BasePruner | None = None,
) -> int:
    """Run the study to ``settings.trials`` finished trials (or the deadline, or Ctrl-C); exit status.
    ``pruner`` replaces the one ``settings`` names."""
    study = _open(settings, identity, base)
    if pruner is not None:
        study.pruner = pruner
    before = counts(study.get_trials(deepcopy=False))
    print(
        f"study {settings.study}: {before.finished} of {settings.trials} trials finished; "
        f"folder {settings.study_dir}",
        file=sys.stderr,
    )
    interrupted, gave_up = False, False
    if before.finished < settings.trials:
        executor = make_executor()
        try:
            scheduler = StudyScheduler(executor, settings, study, base, space)
            interrupted = scheduler.run()
            gave_up = scheduler.gave_up
        finally:
            executor.close()
    return _finish(study, settings, interrupted, gave_up)


def _open(settings: TuneSettings, identity: dict[str, Any], base: LoadedConfig) -> optuna.Study:
    """The study, created or joined; nothing is written into a folder or storage of another study."""
    check_sqlite(settings.storage)
    database = sqlite_path(settings.storage)
    if database is not None and (not database.is_file() or database.stat().st_size == 0):
        check_new_study(settings.study_dir, settings.study, settings.storage)  # no study can be in it
    if database is not None and database.parent == settings.study_dir.absolute():
        settings.study_dir.mkdir(parents=True, exist_ok=True)
    storage = make_storage(settings.storage)  # a database that cannot be reached: nothing written
    if not study_exists(storage, settings.study):
        check_new_study(settings.study_dir, settings.study, settings.storage)
    study = open_study(settings, storage, base_evaluations(base))
    check_marker(settings.study_dir, study, settings.storage)
    check_same_study(study, identity)
    claim_folder(settings.study_dir, study, settings.storage)
    return study


def _finish(study: optuna.Study, settings: TuneSettings, interrupted: bool, gave_up: bool) -> int:
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
    why = (
        f"{MAX_FAILURES_IN_A_ROW} trials in a row failed on their own; see their messages above"
        if gave_up
        else "the trials running elsewhere did not finish"
    )
    print(f"recurrent-rl: {now.finished} of {settings.trials} trials finished ({why})", file=sys.stderr)
    return EXIT_INTERNAL


def check_writable(study_dir: Path) -> None:
    """A UserError unless the study folder can be created (before anything is written)."""
    import os

    parent = study_dir
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"{study_dir}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{study_dir}: {parent} is not writable")
