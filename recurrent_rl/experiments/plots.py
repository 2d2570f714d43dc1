"""The report's plots, each readable at a glance: a title, labelled axes, a legend, one colour per config,
and the memoryless bound drawn dashed where the env states one (:mod:`.bounds`).

- ``curves.png``: the evaluation metric against training timesteps, IQM line and 95% band, a panel per
  grid point;
- ``final.png``: the final metric's IQM and interval per group (each seed a dot), and the probability of
  improvement of each recurrent config over its memoryless baselines;
- ``horizon.png`` (a grid of one numeric key): the final metric against that key, a line per config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from recurrent_rl.experiments.bounds import METRIC_LABELS, env_name, knob_label
from recurrent_rl.experiments.plan import point_label
from recurrent_rl.experiments.report_records import GroupReport, Report
from recurrent_rl.experiments.results import point_key

NAMES = ("curves.png", "final.png", "horizon.png")
BOUND_STYLE: dict[str, Any] = {"color": "0.35", "linestyle": "--", "linewidth": 1.2}


def figures(report: Report) -> dict[str, Figure]:
    """Every plot that applies to ``report``, by file name."""
    drawn = {"curves.png": curves(report), "final.png": final(report)}
    if horizon_key(report) is not None:
        drawn["horizon.png"] = horizon(report)
    return {name: figure for name, figure in drawn.items() if figure is not None}


def draw_all(report: Report, out: Path) -> list[Path]:
    """Draw every plot that applies to ``report`` into ``out``; the files written."""
    written = []
    for name, figure in figures(report).items():
        figure.savefig(out / name, dpi=120, bbox_inches="tight")
        written.append(out / name)
    return written


def _colors(report: Report) -> dict[str, Any]:
    configs = list(dict.fromkeys(g.group.config for g in report.groups))
    palette = [f"C{i % 10}" for i in range(len(configs))]
    return dict(zip(configs, palette, strict=True))


def _point_title(point: tuple[tuple[str, Any], ...]) -> str:
    return point_label(dict(point), {key: key.rsplit(".", 1)[-1] for key, _ in point})


def _label(g: GroupReport) -> str:
    point = _point_title(g.group.point)
    return f"{g.group.config} ({point})" if point else g.group.config


def _envs(report: Report) -> str:
    return ", ".join(dict.fromkeys(env_name(g.group.cfg.env) for g in report.groups))


def _limit_metric_axis(ax: Axes, metric: str, vertical: bool = True) -> None:
    if metric == "success_rate":
        (ax.set_ylim if vertical else ax.set_xlim)(-0.03, 1.03)


def _draw_bounds(ax: Axes, values: Sequence[float | None], vertical_line: bool = False) -> None:
    distinct = sorted({value for value in values if value is not None})
    for value in distinct:
        line = ax.axvline if vertical_line else ax.axhline
        line(value, **BOUND_STYLE, label=f"memoryless bound ({value:g})")


def curves(report: Report) -> Figure | None:
    groups = [g for g in report.groups if g.curve is not None]
    if not groups:
        return None
    points = list({point_key(g.group.point): g.group.point for g in groups}.values())
    columns = min(3, len(points))
    rows = math.ceil(len(points) / columns)
    figure = Figure(figsize=(5.2 * columns, 3.6 * rows + 0.8), layout="constrained")
    axes: list[Axes] = list(figure.subplots(rows, columns, squeeze=False, sharey=True).ravel())
    colors = _colors(report)
    for ax, point in zip(axes, points, strict=False):
        members = [g for g in groups if g.group.point == point]
        for g in members:
            curve = g.curve
            assert curve is not None
            ax.plot(curve.timesteps, curve.iqm, color=colors[g.group.config], label=g.group.config)
            ax.fill_between(curve.timesteps, curve.low, curve.high, color=colors[g.group.config], alpha=0.2)
        _draw_bounds(ax, [g.bound for g in members])
        ax.set_title(_point_title(point) or "all runs", fontsize=10)
        ax.set_xlabel("training timesteps")
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.grid(alpha=0.3)
        _limit_metric_axis(ax, report.metric)
    for ax in axes[len(points) :]:
        ax.set_visible(False)
    for ax in axes[::columns]:
        ax.set_ylabel(METRIC_LABELS[report.metric])
    carried = any(g.curve is not None and g.curve.carried for g in groups)
    note = (
        "runs that stopped early (train.stop_at) keep their last value at later timesteps"
        if carried
        else None
    )
    _figure_legend(figure, axes, note)
    title = f"{_envs(report)}: evaluation {report.metric.replace('_', ' ')} during training"
    figure.suptitle(f"{title}\nIQM over seeds, shaded: 95% stratified-bootstrap interval")
    return figure


def _figure_legend(figure: Figure, axes: Sequence[Axes], note: str | None) -> None:
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    figure.legend(
        handles.values(),
        handles.keys(),
        loc="outside lower center",
        ncols=min(len(handles), 4),
        title=note,
        title_fontsize=8,
    )


def final(report: Report) -> Figure:
    pairs = report.improvements
    rows = max(len(report.groups), len(pairs))
    columns = 2 if pairs else 1
    figure = Figure(figsize=(6.5 * columns, 0.38 * rows + 2.2), layout="constrained")
    axes: list[Axes] = list(figure.subplots(1, columns, squeeze=False).ravel())
    colors = _colors(report)
    ax = axes[0]
    for row, g in enumerate(report.groups):
        color = colors[g.group.config]
        error = [[g.iqm.value - g.iqm.low], [g.iqm.high - g.iqm.value]]
        ax.errorbar(g.iqm.value, row, xerr=error, fmt="s", color=color, capsize=4, markersize=7)
        ax.scatter(g.values, [row] * len(g.values), color=color, s=14, alpha=0.5, zorder=3)
    _draw_bounds(ax, [g.bound for g in report.groups], vertical_line=True)
    ax.set_yticks(range(len(report.groups)), [_label(g) for g in report.groups])
    ax.invert_yaxis()
    ax.set_xlabel(f"final {METRIC_LABELS[report.metric]}")
    ax.set_title("IQM (square) with 95% CI; dots: seeds", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    _limit_metric_axis(ax, report.metric, vertical=False)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    if pairs:
        ax = axes[1]
        for row, pair in enumerate(pairs):
            estimate = pair.estimate
            error = [[estimate.value - estimate.low], [estimate.high - estimate.value]]
            color = colors[pair.recurrent.group.config]
            ax.errorbar(estimate.value, row, xerr=error, fmt="o", color=color, capsize=4)
        ax.axvline(0.5, **BOUND_STYLE, label="0.5: no difference")
        labels = [f"{_label(p.recurrent)} > {p.memoryless.group.config}" for p in pairs]
        ax.set_yticks(range(len(pairs)), labels)
        ax.invert_yaxis()
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("P(a recurrent seed beats a memoryless seed)")
        ax.set_title("Probability of improvement with 95% CI", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    figure.suptitle(f"{_envs(report)}: final {report.metric.replace('_', ' ')} over seeds")
    return figure


def horizon_key(report: Report) -> str | None:
    """The grid's one key when all its values are numbers (the memory-horizon plot's x axis)."""
    keys = report.grid_keys
    if len(keys) != 1:
        return None
    values = [value for g in report.groups for _, value in g.group.point]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return keys[0] if numeric and len(values) == len(report.groups) and len(set(values)) > 1 else None


def horizon(report: Report) -> Figure:
    key = horizon_key(report)
    assert key is not None
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = figure.subplots()
    colors = _colors(report)
    bounds: dict[float, float] = {}
    for config, color in colors.items():
        members = sorted(
            (g for g in report.groups if g.group.config == config), key=lambda g: g.group.point[0][1]
        )
        xs = [g.group.point[0][1] for g in members]
        ax.plot(xs, [g.iqm.value for g in members], "o-", color=color, label=config)
        ax.fill_between(
            xs, [g.iqm.low for g in members], [g.iqm.high for g in members], color=color, alpha=0.2
        )
        bounds.update({x: g.bound for x, g in zip(xs, members, strict=True) if g.bound is not None})
    if bounds:
        xs = sorted(bounds)
        constant = len(set(bounds.values())) == 1
        label = f"memoryless bound ({bounds[xs[0]]:g})" if constant else "memoryless bound"
        ax.plot(xs, [bounds[x] for x in xs], **BOUND_STYLE, label=label)
    values = sorted({g.group.point[0][1] for g in report.groups})
    if values[0] > 0 and values[-1] / values[0] >= 10:
        ax.set_xscale("log")
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.minorticks_off()
    env = env_name(report.groups[0].group.cfg.env)
    ax.set_xlabel(knob_label(env, key))
    ax.set_ylabel(f"final {METRIC_LABELS[report.metric]}")
    _limit_metric_axis(ax, report.metric)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    figure.suptitle(
        f"{_envs(report)}: memory horizon\nIQM over seeds, shaded: 95% stratified-bootstrap interval"
    )
    return figure
