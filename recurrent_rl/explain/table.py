"""The explain summary as (label, value) rows, for printing as a two-column table."""

from __future__ import annotations

from recurrent_rl.explain.probes import SOURCES
from recurrent_rl.explain.records import ExplainSummary, LastStepScores, ProbeResult


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _scores(record: ProbeResult | LastStepScores) -> str:
    """The scores a probe has (obs, h, and c for an LSTM)."""
    return "  ".join(
        f"{name} {_number(getattr(record, name))}" for name in SOURCES if getattr(record, name) is not None
    )


def _probe_rows(row: ProbeResult) -> list[tuple[str, str]]:
    label = f"probe {row.variable} ({row.metric})"
    if row.skipped is not None:
        return [(label, f"skipped: {row.skipped}")]
    rows = [(label, f"{_scores(row)}  (chance {_number(row.chance)})")]
    last = row.last_step
    if last is not None and last.h is not None:
        rows.append(("  at episode end", f"{_scores(last)}  (chance {_number(last.chance)})"))
    return rows


def format_table(summary: ExplainSummary) -> list[tuple[str, str]]:
    """(label, value) rows of an :func:`~recurrent_rl.explain.analysis.explain` summary."""
    result = summary.outcome
    rows = [
        ("episodes", f"{summary.n_episodes} ({summary.n_steps} steps, seed {summary.seed})"),
        ("success rate / mean return", f"{_number(result.success_rate)} / {_number(result.mean_return)}"),
        (
            f"actor {summary.memory.kind.upper()}",
            f"{summary.memory.layers} layer(s) x {summary.memory.cells} cells",
        ),
    ]
    for row in summary.probes:
        rows.extend(_probe_rows(row))
    cells = summary.memory_cells
    if cells:
        gate = cells.keep_gate
        listed = ", ".join(f"#{c.cell} ({gate} {c.mean_keep:.2f})" for c in cells.cells)
        rows.append((f"memory cells of {cells.state} for {cells.variable} (mean {gate})", listed))
        rows.append((f"  other cells' mean {gate}", _number(cells.mean_keep_other_cells)))
    causal = summary.causal
    if causal:
        metric = "success_rate" if causal.no_clamp.success_rate is not None else "mean_return"
        outcomes = (causal.no_clamp, causal.top_k, causal.random_k)
        values = " / ".join(_number(getattr(outcome, metric)) for outcome in outcomes)
        rows.append((f"{metric.replace('_', ' ')}: no clamp / top {causal.k} / random {causal.k}", values))
    return rows
