"""One trial: a training per seed (``trial_0003``, or ``trial_0003-seed1`` with several seeds per trial),
each an ordinary run in the study folder started as ``recurrent-rl train``; and how the trial ended, with
the real cause when it failed and whether running it again can help.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import optuna
from optuna.trial import TrialState

from recurrent_rl.artifacts import records
from recurrent_rl.experiments.stop_file import STOP_FILE
from recurrent_rl.tuning.objective import Curve, TrialFailed, objective_value
from recurrent_rl.tuning.space import yaml_value
from recurrent_rl.tuning.study import TuneSettings

RERUN_HELPS = "a rerun can help: the same command continues the study and runs these parameters again"
RERUN_FAILS = "a rerun would fail the same way (the same parameters and seeds)"


@dataclass
class SeedRun:
    """One seed's training of a trial, as the tuner follows it."""

    seed: int
    run_dir: Path
    state: Literal["pending", "running", "ended"] = "pending"
    handle: Any = None
    retries: int = 0  # resubmissions after its job was lost
    status: str = ""  # once ended: the run's status (completed, stopped_early, failed, interrupted)
    message: str = ""
    lost: bool = False  # ended because its job was lost once too often
    curve: Curve = field(default_factory=list)

    @property
    def stop_file(self) -> Path:
        return self.run_dir / STOP_FILE


@dataclass
class TrialRuns:
    """A trial this command runs: its seeds' trainings, what was reported, and why it stops early."""

    trial: optuna.Trial
    runs: list[SeedRun]
    overrides: list[str]
    reported: int = 0  # evaluation steps reported to the pruner
    pruned: str | None = None  # the pruner's reason: the runs are asked to stop
    failed: str | None = None  # why the trial failed before its runs ended (the others are stopped)

    @property
    def stopping(self) -> bool:
        return self.pruned is not None or self.failed is not None

    def ended(self) -> bool:
        """Every run has ended (runs never started count as ended once the trial stops)."""
        return all(run.state == "ended" or (run.state == "pending" and self.stopping) for run in self.runs)


def seed_runs(settings: TuneSettings, number: int, first_seed: int) -> list[SeedRun]:
    """The trial's runs: seeds ``first_seed``, ``first_seed + 1``, ... in the study folder."""
    name = f"trial_{number:04d}"
    if settings.seeds == 1:
        return [SeedRun(first_seed, settings.study_dir / name)]
    seeds = range(first_seed, first_seed + settings.seeds)
    return [SeedRun(seed, settings.study_dir / f"{name}-seed{seed}") for seed in seeds]


def placement(settings: TuneSettings) -> list[str]:
    """Where a trial's runs are written: the study folder, as ``<runs_dir>/studies/<name>``."""
    studies = settings.study_dir.parent.absolute()
    return [
        f"logging.runs_dir={yaml_value(str(studies))}",
        f"logging.experiment={settings.study_dir.name}",
        "train.progress_bar=false",
    ]


def train_args(settings: TuneSettings, overrides: list[str], run: SeedRun) -> list[str]:
    """The ``recurrent-rl`` arguments that start ``run``."""
    overrides = [*settings.sets, *overrides, *placement(settings)]
    sets = [item for override in overrides for item in ("--set", override)]
    return [
        "train",
        str(settings.config),
        *sets,
        "--seed",
        str(run.seed),
        "--run-name",
        run.run_dir.name,
        "--stop-file",
        str(run.stop_file.absolute()),
    ]


def resume_args(run: SeedRun) -> list[str]:
    return ["train", "--resume", str(run.run_dir.absolute()), "--stop-file", str(run.stop_file.absolute())]


@dataclass(frozen=True)
class Conclusion:
    """How a trial ends: its state, its value (COMPLETE), and the attributes that say why."""

    state: TrialState
    value: float | None
    attrs: dict[str, Any]


def conclude(trial: TrialRuns, settings: TuneSettings, budget: int) -> Conclusion:
    """The trial's end from its runs' ends: FAIL with the first real cause, PRUNED, or COMPLETE."""
    started = [run for run in trial.runs if run.state == "ended"]
    own = [run for run in started if run.status == "failed" and not run.lost]
    if trial.failed is not None or own:
        cause = trial.failed or f"seed {own[0].seed}: {own[0].message}"
        return Conclusion(TrialState.FAIL, None, _attrs("failed", cause, RERUN_FAILS))
    unfinished = [run for run in started if run.lost or run.status not in records.FINISHED]
    if unfinished:
        run = unfinished[0]
        status = "lost" if run.lost else run.status
        cause = f"seed {run.seed}: {run.message}"
        return Conclusion(TrialState.FAIL, None, _attrs(status, cause, RERUN_HELPS))
    if trial.pruned is not None:  # the trainings may have ended before the stop request reached them
        status = _status(started)
        late = "" if status == "stopped_early" else f" (its trainings had already ended: {status})"
        return Conclusion(TrialState.PRUNED, None, _attrs(status, trial.pruned + late, ""))
    try:
        values = {run.seed: objective_value(run.curve, settings.objective, budget) for run in trial.runs}
    except TrialFailed as error:
        return Conclusion(TrialState.FAIL, None, _attrs("failed", str(error), RERUN_FAILS))
    attrs = _attrs(_status(started), "", "")
    attrs.update({f"value_seed{seed}": value for seed, value in values.items()})
    return Conclusion(TrialState.COMPLETE, sum(values.values()) / len(values), attrs)


def _status(runs: list[SeedRun]) -> str:
    statuses = {run.status for run in runs}
    return statuses.pop() if len(statuses) == 1 else "mixed: " + ", ".join(run.status for run in runs)


def _attrs(status: str, message: str, rerun: str) -> dict[str, Any]:
    return {"status": status, "message": message, "rerun": rerun}
