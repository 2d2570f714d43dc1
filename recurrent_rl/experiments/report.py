"""A report over seeds: for each (config, grid point) the final metric as IQM with its 95% interval, mean
± std, each seed's value and the timesteps to reach ``train.stop_at``; the probability that each recurrent
config beats each memoryless one (``algo.name: ppo``) on the same env and grid point; the learning curves.

A run's final metric is its final evaluation (``summary.json``), else its last evaluation record. Runs
that did not finish are listed, not counted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from recurrent_rl.artifacts.atomic import atomic_write_text
from recurrent_rl.errors import UserError
from recurrent_rl.experiments import plots, results, stats
from recurrent_rl.experiments.bounds import env_name, memoryless_bound
from recurrent_rl.experiments.markdown import as_markdown
from recurrent_rl.experiments.report_records import Curve, GroupReport, Improvement, Report
from recurrent_rl.experiments.results import Group, RunResult

METRICS = ("success_rate", "mean_return", "max_mean_return")
FILES = ("report.md", "report.json", *plots.NAMES)  # what ``write`` may write
# What a metric reads from each evaluation record (max_mean_return: the best of a run's mean returns).
_RECORD_FIELD = {"max_mean_return": "mean_return"}
MAX_CURVE_POINTS = 40


def build(paths: list[Path], metric: str | None = None) -> Report:
    """Read the runs under ``paths`` and compute every estimate."""
    found, skipped = results.collect(paths)
    groups = [g for g in results.group(found) if g.runs]
    if not groups:
        raise UserError(f"report: no finished run with an evaluation in {', '.join(map(str, paths))}")
    chosen = choose_metric(groups, metric)
    reports = [_group_report(g, chosen) for g in groups]
    return Report(chosen, reports, _improvements(reports), skipped)


def choose_metric(groups: list[Group], requested: str | None) -> str:
    """``requested``, or success_rate where every run reports one, else mean_return."""
    finals = [run.final for g in groups for run in g.runs if run.final is not None]
    has_success = all(final.success_rate is not None for final in finals)
    if requested == "success_rate" and not has_success:
        raise UserError("report: --metric success_rate: some runs' env defines no success; use mean_return")
    return requested or ("success_rate" if has_success else "mean_return")


def _value(record: Any, metric: str) -> float:
    value = record.metric(_RECORD_FIELD.get(metric, metric))
    return float("nan") if value is None else value


def _run_value(run: RunResult, metric: str) -> float:
    """A run's value: its final evaluation's, or for ``max_mean_return`` (POPGym's MMER, max over training
    of the mean episodic return) the highest mean return of its evaluations and its final one."""
    if metric == "max_mean_return":
        return max(_value(record, metric) for record in (*run.history, run.final) if record is not None)
    return _value(run.final, metric)


def _group_report(group: Group, metric: str) -> GroupReport:
    values = [_run_value(run, metric) for run in group.runs]
    mean, std = stats.mean_std(values)
    cfg = group.cfg
    stop = cfg.train.stop_at
    steps = [_steps_to(run, stop) for run in group.runs] if stop is not None else None
    bound = memoryless_bound(env_name(cfg.env), dict(cfg.env.kwargs), metric)
    return GroupReport(group, values, stats.iqm(values), mean, std, steps, _curve(group.runs, metric), bound)


def _steps_to(run: RunResult, stop: Any) -> int | None:
    """Timesteps of the first evaluation that reached ``train.stop_at`` (either target suffices)."""
    for record in run.history:
        success = stop.success_rate is not None and (record.success_rate or 0.0) >= stop.success_rate
        if success or (stop.mean_return is not None and record.mean_return >= stop.mean_return):
            return record.timesteps
    return None


def _curve(runs: list[RunResult], metric: str) -> Curve | None:
    """The IQM curve over the timesteps where every run has an evaluation (the last value carried on)."""
    histories = [[(r.timesteps or 0, _value(r, metric)) for r in run.history] for run in runs if run.history]
    if len(histories) != len(runs) or not histories:
        return None
    start = max(history[0][0] for history in histories)
    steps = sorted({t for history in histories for t, _ in history if t >= start})
    if len(steps) > MAX_CURVE_POINTS:
        picks = np.unique(np.linspace(0, len(steps) - 1, MAX_CURVE_POINTS).round().astype(int))
        steps = [steps[i] for i in picks]
    matrix = np.array([[_at(history, t) for t in steps] for history in histories])
    carried = any(history[-1][0] < steps[-1] for history in histories)
    iqm, low, high = stats.iqm_curve(matrix)
    return Curve(np.array(steps), iqm, low, high, carried)


def _at(history: list[tuple[int, float]], timesteps: int) -> float:
    return [value for t, value in history if t <= timesteps][-1]


def _env_key(cfg: Any) -> str:
    env = cfg.env
    return json.dumps([env.id, env.kwargs, [w.model_dump(mode="json") for w in env.wrappers]], sort_keys=True)


def _improvements(reports: list[GroupReport]) -> list[Improvement]:
    """Each recurrent group against each memoryless group on the same env and grid point (or none)."""
    pairs = []
    for x in reports:
        for y in reports:
            cx, cy = x.group.cfg, y.group.cfg
            kinds = (cx.algo.name, cy.algo.name) == ("recurrent_ppo", "ppo")
            same_point = y.group.point in (x.group.point, ())  # a baseline without a grid point fits all
            if kinds and same_point and _env_key(cx) == _env_key(cy):
                estimate = stats.probability_of_improvement(x.values, y.values)
                pairs.append(Improvement(x, y, estimate))
    return pairs


def as_json(report: Report) -> dict[str, Any]:
    """The whole report as one JSON-ready object."""
    groups = []
    for g in report.groups:
        cfg = g.group.cfg
        groups.append(
            {
                "config": g.group.config,
                "grid": dict(g.group.point),
                "env": env_name(cfg.env),
                "algorithm": cfg.algo.name,
                "seeds": g.seeds,
                "values": g.values,
                "iqm": g.iqm.value,
                "ci95": [g.iqm.low, g.iqm.high],
                "mean": g.mean,
                "std": g.std,
                "stop_at": cfg.train.stop_at.model_dump(exclude_none=True) if cfg.train.stop_at else None,
                "steps_to_target": g.steps_to_target,
                "memoryless_bound": g.bound,
                "runs": [str(run.run_dir) for run in g.group.runs],
                "excluded": [{"run": str(run.run_dir), "status": run.status} for run in g.group.excluded],
                "resumed": {str(run.run_dir): list(run.resumed_at) for run in g.group.runs if run.resumed_at},
            }
        )
    skipped = [{"folder": str(skip.path), "reason": skip.reason} for skip in report.skipped]
    improvements = [
        {
            "config": pair.recurrent.group.config,
            "baseline": pair.memoryless.group.config,
            "grid": dict(pair.recurrent.group.point),
            "probability": pair.estimate.value,
            "ci95": [pair.estimate.low, pair.estimate.high],
        }
        for pair in report.improvements
    ]
    method = {"bootstrap": "stratified, percentile", "reps": stats.REPS, "confidence": stats.CONFIDENCE}
    return {
        "metric": report.metric,
        "method": method,
        "groups": groups,
        "improvements": improvements,
        "skipped": skipped,
    }


def write(report: Report, out: Path) -> list[Path]:
    """``report.md``, ``report.json`` and the plots in ``out``; the paths written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"report: --out {out}: cannot create the folder ({error.strerror})") from None
    images = plots.draw_all(report, out)
    atomic_write_text(out / "report.md", as_markdown(report, [image.name for image in images]))
    atomic_write_text(out / "report.json", json.dumps(as_json(report), indent=2) + "\n")
    return [out / "report.md", out / "report.json", *images]
