"""A report as Markdown (``report.md``, and what ``recurrent-rl report`` prints)."""

from __future__ import annotations

from typing import Any

import numpy as np

from recurrent_rl.experiments import stats
from recurrent_rl.experiments.plan import short_keys
from recurrent_rl.experiments.report_records import GroupReport, Report
from recurrent_rl.experiments.sweep_file import yaml_value

METRIC_NAMES = {
    "success_rate": "final success rate",
    "mean_return": "final mean return",
    "max_mean_return": "max mean return (MMER)",
}
#: Where each run's value comes from.
METRIC_SOURCES = {
    "success_rate": "its final evaluation",
    "mean_return": "its final evaluation",
    "max_mean_return": "the highest mean return of its evaluations, POPGym's MMER",
}


def number(value: float) -> str:
    """Two decimals for rates and small returns, one for large returns."""
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def as_markdown(report: Report, images: list[str]) -> str:
    metric = METRIC_NAMES[report.metric]
    lines = [
        f"# Report: {metric} over seeds",
        "",
        f"The {metric} of each run ({METRIC_SOURCES[report.metric]}; deterministic actions): the "
        "interquartile mean "
        f"(IQM) over seeds with its 95% stratified-bootstrap interval (rliable, {stats.REPS} repetitions), "
        "mean ± standard deviation, and each seed's value.",
        "",
        *_group_table(report),
    ]
    if any(g.steps_to_target is not None for g in report.groups):
        lines += [
            "",
            "Steps to stop_at: the median, over the seeds that reached `train.stop_at`, of the timesteps "
            "of the first evaluation that did (reached/seeds).",
        ]
    excluded = [(g.group.config, run) for g in report.groups for run in g.group.excluded]
    if excluded:
        lines += ["", f"Not counted ({len(excluded)} runs did not finish):", ""]
        lines += [f"- `{run.run_dir}`: {run.status}" for _, run in excluded]
    resumed = [run for g in report.groups for run in g.group.runs if run.resumed_at]
    if resumed:
        lines += [
            "",
            f"Resumed ({len(resumed)} runs continued from a checkpoint with fresh random streams, so "
            "each differs from the uninterrupted run of its seed):",
            "",
        ]
        lines += [
            f"- `{run.run_dir}`: at {', '.join(f'{steps:,}' for steps in run.resumed_at)} timesteps"
            for run in resumed
        ]
    if report.skipped:
        lines += ["", f"Skipped ({len(report.skipped)} folders not read as runs):", ""]
        lines += [f"- `{skip.path}`: {skip.reason}" for skip in report.skipped]
    if report.improvements:
        lines += ["", "## Probability of improvement", "", *_improvement_table(report)]
    if images:
        lines += ["", "## Plots", ""] + [f"![{name}]({name})" for name in images]
    return "\n".join(lines) + "\n"


def _point_cells(point: dict[str, Any], keys: list[str]) -> list[str]:
    """Each key's value at ``point`` as YAML (``[64, 64]``, ``{linear: [0.001, 0.0]}``); "" where unset."""
    values = [point.get(key, "") for key in keys]
    return [value if isinstance(value, str) else yaml_value(value) for value in values]


def _group_table(report: Report) -> list[str]:
    keys = report.grid_keys
    short = short_keys(keys)
    header = ["config", *(short[key] for key in keys), "seeds", "IQM [95% CI]", "mean ± std", "per seed"]
    if any(g.steps_to_target is not None for g in report.groups):
        header.append("steps to stop_at")
    rows = [header, ["---"] * len(header)]
    for g in report.groups:
        row = [f"`{g.group.config}`", *_point_cells(dict(g.group.point), keys), str(len(g.values))]
        row.append(f"{number(g.iqm.value)} [{number(g.iqm.low)}, {number(g.iqm.high)}]")
        row.append(f"{number(g.mean)} ± {number(g.std)}")
        row.append(
            ", ".join(f"{seed}: {number(value)}" for seed, value in zip(g.seeds, g.values, strict=True))
        )
        if len(header) > len(row):
            row.append(_steps(g))
        rows.append(row)
    return ["| " + " | ".join(row) + " |" for row in rows]


def _steps(g: GroupReport) -> str:
    if g.steps_to_target is None:
        return "–"
    reached = [steps for steps in g.steps_to_target if steps is not None]
    count = f"{len(reached)}/{len(g.steps_to_target)}"
    return (
        f"{int(np.median(reached)):,} ({count})" if reached else f"not reached (0/{len(g.steps_to_target)})"
    )


def _improvement_table(report: Report) -> list[str]:
    keys = report.grid_keys
    short = short_keys(keys)
    header = ["recurrent", "memoryless", *(short[key] for key in keys), "P(recurrent > memoryless) [95% CI]"]
    rows = [header, ["---"] * len(header)]
    for pair in report.improvements:
        estimate = pair.estimate
        rows.append(
            [
                f"`{pair.recurrent.group.config}`",
                f"`{pair.memoryless.group.config}`",
                *_point_cells(dict(pair.recurrent.group.point), keys),
                f"{estimate.value:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]",
            ]
        )
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    note = "The probability that a seed of the recurrent config scores higher than a seed of the memoryless"
    return [*lines, "", f"{note} one (ties count half); 0.5: no difference."]
