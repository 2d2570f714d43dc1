"""What a trial scores: each evaluation's metric, a run's objective over its evaluation curve, and the
mean over a trial's seeds, step by step for the pruner and in the end for the study."""

from __future__ import annotations

from pathlib import Path

from recurrent_rl.artifacts import records
from recurrent_rl.artifacts.records import EvalRecord
from recurrent_rl.config.loader import LoadedConfig
from recurrent_rl.errors import UserError
from recurrent_rl.tuning.study import Metric, Objective

FINAL_WINDOW = 3  # "final": the mean of the last evaluations
Curve = list[tuple[int, float]]  # (timesteps, metric) per evaluation, oldest first


class TrialFailed(Exception):
    """The trial cannot be scored (an env without success and --metric success_rate, ...)."""


def metric_of(record: EvalRecord, metric: Metric) -> float:
    """The success rate where the env reports success (``auto``), else the mean return."""
    if metric == "mean_return" or (metric == "auto" and record.success_rate is None):
        return float(record.mean_return)
    if record.success_rate is None:
        raise TrialFailed("--metric success_rate: this env reports no success")
    return float(record.success_rate)


def read_curve(run_dir: Path, metric: Metric) -> Curve:
    """The run's evaluations so far as a curve ([] before the first, or while its file is unreadable)."""
    try:
        history = records.read_history(run_dir)
    except UserError:
        return []
    return [(record.timesteps or 0, metric_of(record, metric)) for record in history]


def objective_value(curve: Curve, objective: Objective, budget: int) -> float:
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


def step_mean(curves: list[Curve], ended: list[bool], step: int) -> float | None:
    """The seeds' mean at evaluation ``step`` (1, 2, ...) once every seed has it; a seed that ended before
    (stopped early at its target) holds its last value. None while a seed has not got there."""
    values = []
    for curve, done in zip(curves, ended, strict=True):
        if len(curve) >= step:
            values.append(curve[step - 1][1])
        elif done and curve:
            values.append(curve[-1][1])
        else:
            return None
    return sum(values) / len(values)


def base_evaluations(loaded: LoadedConfig) -> int:
    """How many evaluations a full trial has (for the median pruner's warm-up)."""
    train = loaded.config.train
    return max(train.total_timesteps // train.eval_freq, 1) if train.eval_freq > 0 else 1
