"""One trial: sample overrides, train an ordinary run in ``<study folder>/trial_<number>``, score it.

Each evaluation is reported to the trial (step = the evaluation's number, the same for every trial
whatever its rollout size); when the pruner says so, training stops (the run ends ``stopped_early`` with
the reason as its message) and the trial is PRUNED. The trial's user attributes record its run folder,
the overrides it trained with, the constraints applied, the run's status and message, and the worker.
"""

from __future__ import annotations

import os
import socket

import optuna

from recurrent_rl.artifacts import records
from recurrent_rl.artifacts.records import EvalRecord
from recurrent_rl.config.loader import LoadedConfig, load_config
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.space import SearchSpace, sample, yaml_value
from recurrent_rl.tuning.study import Metric, Objective, TuneSettings

FINAL_WINDOW = 3  # "final": the mean of the last evaluations


class TrialFailed(Exception):
    """The trial's training failed (NaN, crash, refused): the trial is FAIL and the worker goes on."""


def metric_of(record: EvalRecord, metric: Metric) -> float:
    """The success rate where the env reports success (``auto``), else the mean return."""
    if metric == "mean_return" or (metric == "auto" and record.success_rate is None):
        return float(record.mean_return)
    if record.success_rate is None:
        raise TrialFailed("--metric success_rate: this env reports no success")
    return float(record.success_rate)


def objective_value(curve: list[tuple[int, float]], objective: Objective, budget: int) -> float:
    """``final``: the mean of the last evaluations; ``auc``: the curve's mean level over the budget (each
    value held from the previous evaluation on; after an early stop the last value holds to the end)."""
    if not curve:
        raise TrialFailed("the run has no evaluation")
    values = [value for _, value in curve]
    if objective == "final":
        window = values[-FINAL_WINDOW:]
        return sum(window) / len(window)
    end = max(budget, curve[-1][0])
    area, previous = 0.0, 0
    for timesteps, value in curve:
        area += value * (timesteps - previous)
        previous = timesteps
    area += values[-1] * (end - previous)
    return area / end if end > 0 else values[-1]


class TrialObjective:
    """Callable for ``study.optimize``: trains one trial in this process and returns its score."""

    def __init__(self, settings: TuneSettings, space: SearchSpace) -> None:
        self.settings = settings
        self.space = space
        self.base = load_config(settings.config, settings.sets)

    def __call__(self, trial: optuna.Trial) -> float:
        from recurrent_rl.training.train import train  # heavy: torch

        settings = self.settings
        sampled = sample(trial, self.space, self.base.config)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial.set_user_attr("overrides", sampled.overrides)
        trial.set_user_attr("constrained", "; ".join(sampled.constrained))
        loaded = self._load(trial, sampled.overrides)
        run_name = f"trial_{trial.number:04d}"
        run_dir = settings.study_dir / run_name
        trial.set_user_attr("run_dir", str(run_dir.absolute()))
        reporter = Reporter(trial, settings.metric)
        command = f"{settings.command}  # trial {trial.number} of study {settings.study}"
        try:
            outcome = train(loaded, command, run_name=run_name, after_eval=reporter)
        except UserError as error:
            trial.set_user_attr("status", "failed")
            raise TrialFailed(str(error)) from None
        trial.set_user_attr("status", outcome.status)
        trial.set_user_attr("message", outcome.message)
        if outcome.status == "interrupted":
            raise KeyboardInterrupt  # the trial is FAIL, not COMPLETE; the worker stops
        if outcome.status == "failed":
            raise TrialFailed(outcome.message)
        if reporter.pruned is not None:
            raise optuna.TrialPruned(reporter.pruned)
        history = records.read_history(run_dir)
        curve = [(record.timesteps or 0, metric_of(record, settings.metric)) for record in history]
        return objective_value(curve, settings.objective, loaded.config.train.total_timesteps)

    def _load(self, trial: optuna.Trial, overrides: list[str]) -> LoadedConfig:
        """The trial's config; one the loader rejects is pruned with the loader's message."""
        settings = self.settings
        placement = [
            f"logging.runs_dir={yaml_value(str(settings.study_dir.parent.absolute()))}",
            f"logging.experiment={settings.study_dir.name}",
            "train.progress_bar=false",
        ]
        try:
            return load_config(settings.config, [*settings.sets, *overrides, *placement])
        except UserError as error:
            trial.set_user_attr("rejected", str(error))
            raise optuna.TrialPruned(f"rejected by the config: {error}") from None


class Reporter:
    """The run's ``after_eval`` hook: report each evaluation, and stop the run when the trial is pruned."""

    def __init__(self, trial: optuna.Trial, metric: Metric) -> None:
        self.trial = trial
        self.metric = metric
        self.step = 0
        self.pruned: str | None = None

    def __call__(self, record: EvalRecord) -> str | None:
        self.step += 1
        value = metric_of(record, self.metric)
        self.trial.report(value, self.step)
        if self.trial.should_prune():
            self.pruned = (
                f"pruned by the tuner at evaluation {self.step} ({record.timesteps} steps): {value:.4g}"
            )
            return self.pruned
        return None


def base_evaluations(loaded: LoadedConfig) -> int:
    """How many evaluations a full trial has (for the median pruner's warm-up)."""
    train = loaded.config.train
    return max(train.total_timesteps // train.eval_freq, 1) if train.eval_freq > 0 else 1
