"""The explain summary as (label, value) rows, for printing as a two-column table."""

from __future__ import annotations

from recurrent_rl.explain.records import ExplainSummary, ProbeResult


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _probe_rows(row: ProbeResult) -> list[tuple[str, str]]:
    label = f"probe {row.variable} ({row.metric})"
    if row.skipped is not None:
        return [(label, f"skipped: {row.skipped}")]
    scores = "  ".join(f"{name} {_number(getattr(row, name))}" for name in ("obs", "h", "c"))
    rows = [(label, f"{scores}  (chance {_number(row.chance)})")]
    last = row.last_step
    if last is not None and last.c is not None:
        scores = "  ".join(f"{name} {_number(getattr(last, name))}" for name in ("obs", "h", "c"))
        rows.append(("  at episode end", f"{scores}  (chance {_number(last.chance)})"))
    return rows


def format_table(summary: ExplainSummary) -> list[tuple[str, str]]:
    """(label, value) rows of an :func:`~recurrent_rl.explain.analysis.explain` summary."""
    result = summary.outcome
    rows = [
        ("episodes", f"{summary.n_episodes} ({summary.n_steps} steps, seed {summary.seed})"),
        ("success rate / mean return", f"{_number(result.success_rate)} / {_number(result.mean_return)}"),
        ("actor LSTM", f"{summary.lstm.layers} layer(s) x {summary.lstm.cells} cells"),
    ]
    for row in summary.probes:
        rows.extend(_probe_rows(row))
    cells = summary.memory_cells
    if cells:
        listed = ", ".join(f"#{c.cell} (f {c.mean_forget:.2f})" for c in cells.cells)
        rows.append((f"memory cells for {cells.variable} (mean forget gate)", listed))
        rows.append(("  other cells' mean forget gate", _number(cells.mean_forget_other_cells)))
    causal = summary.causal
    if causal:
        metric = "success_rate" if causal.no_clamp.success_rate is not None else "mean_return"
        outcomes = (causal.no_clamp, causal.top_k, causal.random_k)
        values = " / ".join(_number(getattr(outcome, metric)) for outcome in outcomes)
        rows.append((f"{metric.replace('_', ' ')}: no clamp / top {causal.k} / random {causal.k}", values))
    return rows
