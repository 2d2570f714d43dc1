"""Figures: the gates of one episode (``gates.png``) and the probe scores (``probes.png``), drawn with Agg."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from recurrent_rl.artifacts.atomic import atomic_write_bytes  # noqa: E402
from recurrent_rl.explain.probes import SOURCES, VISIBLE_BASIS  # noqa: E402
from recurrent_rl.explain.records import ProbeResult  # noqa: E402
from recurrent_rl.explain.trace import Trace  # noqa: E402

COLOURS = {"obs": "tab:gray", "h": "tab:blue", "c": "tab:orange"}


def plot_gates(
    trace: Trace,
    path: str | Path,
    episode: int = 0,
    layer: int = -1,
    appear_step: int | None = None,
    needed_step: int | None = None,
    cell_order: Sequence[int] | None = None,
    n_marked: int = 0,
    title: str | None = None,
) -> Path:
    """Heatmaps (cells x steps) of the memory's gates over one episode, layer ``layer``: LSTM i, f, o, c; GRU
    r, z, n, h (:attr:`~recurrent_rl.algo.memory.base.Memory.panels`). Gates in [0, 1] share one colour
    scale; states and candidates (signed) another.

    Vertical markers at ``appear_step`` (the hidden information is shown) and ``needed_step`` (it is
    needed); ``cell_order`` lists the cells top to bottom (e.g. the memory cells first) and a line
    separates its first ``n_marked`` cells from the rest.
    """
    rows = trace.episode == episode
    if not rows.any():
        raise ValueError(f"episode {episode} is not in the trace (0..{trace.n_episodes - 1})")
    order = np.arange(trace.n_cells) if cell_order is None else np.asarray(cell_order)
    steps = trace.step[rows]
    memory = trace.memory_class
    fig, axes = plt.subplots(
        len(memory.panels), 1, figsize=(max(6.0, 0.25 * len(steps) + 3), 10), sharex=True
    )
    extent = (steps[0] - 0.5, steps[-1] + 0.5, len(order) - 0.5, -0.5)
    for ax, (name, label) in zip(axes, memory.panels, strict=True):
        values = trace.gates[name][rows, layer][:, order].T
        gate = name in memory.sigmoid_gates
        if not gate:
            bound = max(float(np.abs(values).max()), 1e-6)
            image = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound, extent=extent)
        else:
            image = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, extent=extent)
        fig.colorbar(image, ax=ax, label="activation (0-1)" if gate else "value")
        ax.set_title(label)
        ax.set_ylabel("cell" + (f" (top {n_marked} above the line)" if n_marked else ""))
        if 0 < n_marked < len(order):
            ax.axhline(n_marked - 0.5, color="white" if gate else "black", linewidth=1.5)
        if len(order) <= 32:
            ax.set_yticks(range(len(order)), [str(c) for c in order], fontsize=6)
        for step, colour, text in (
            (appear_step, "lime", "information shown"),
            (needed_step, "red", "needed"),
        ):
            if step is not None:
                ax.axvline(step, color=colour, linestyle="--", linewidth=1.5, label=f"{text} (step {step})")
    if appear_step is not None or needed_step is not None:
        axes[0].legend(loc="upper right", fontsize=7, framealpha=0.8)
    axes[-1].set_xlabel("step in the episode (env steps)")
    fig.suptitle(title or f"Actor {trace.memory.upper()} layer {layer % trace.n_layers}, episode {episode}")
    fig.tight_layout()
    _save(fig, Path(path))
    return Path(path)


def plot_probes(probes: list[ProbeResult], path: str | Path, title: str | None = None) -> Path:
    """Bar chart of the probe scores (obs, h, and c for an LSTM) per hidden variable, and the retention
    curves of the memory state (LSTM ``c``, GRU ``h``)."""
    rows = [row for row in probes if row.skipped is None]
    fig, (bars, curves) = plt.subplots(1, 2, figsize=(12, 4.5))
    sources = [name for name in SOURCES if any(getattr(row, name) is not None for row in rows)] or ["obs"]
    state = next((row.state for row in rows if row.state is not None), "c")
    width = 0.8 / len(sources)
    chance_drawn = False
    for x, row in enumerate(rows):
        for j, name in enumerate(sources):
            bars.bar(
                x - 0.4 + (j + 0.5) * width,
                getattr(row, name),
                width,
                color=COLOURS[name],
                label=f"from {name}" if x == 0 else None,
            )
        if row.kind == "discrete":
            bars.hlines(
                row.chance,
                x - 0.45,
                x + 0.45,
                colors="black",
                linestyles="--",
                label=None if chance_drawn else "chance (majority class)",
            )
            chance_drawn = True
    bars.set_xticks(range(len(rows)), [f"{row.variable}\n({row.metric})" for row in rows])
    bars.set_ylabel("probe score, cross-validated by episode\n(accuracy or R²)")
    bars.set_xlabel("hidden variable")
    bars.set_title("Linear probes over all steps")
    bars.axhline(0.0, color="black", linewidth=0.5)
    bars.legend(fontsize=8)

    bases = set()
    for row in rows:
        curve = row.retention
        if curve is None:
            continue
        bases.add(curve.basis)
        held = getattr(curve, state)
        line = curves.plot(curve.steps, held, marker="o", markersize=3, label=f"{row.variable}: from {state}")
        curves.plot(
            curve.steps,
            curve.obs,
            linestyle=":",
            color=line[0].get_color(),
            label=f"{row.variable}: from obs",
        )
    what = "the information was last visible" if bases == {VISIBLE_BASIS} else "visible (else episode start)"
    curves.set_xlabel(f"steps since {what} (env steps)")
    curves.set_ylabel("probe score (accuracy or R²)")
    curves.set_title(f"Retention: what the memory state {state} still holds")
    if rows:
        curves.legend(fontsize=7, loc="best")
    fig.suptitle(title or "What the memory knows about the hidden state")
    fig.tight_layout()
    _save(fig, Path(path))
    return Path(path)


def _save(fig: Any, path: Path) -> None:
    """Render to memory, then one atomic write (a kill never leaves half a PNG)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
