"""Look inside the LSTM of a recurrent policy: gates, linear probes, memory cells and a causal check.

Works on plain objects: an sb3-contrib recurrent policy (``RecurrentActorCriticPolicy`` or a subclass,
or an algorithm holding one) and an SB3 VecEnv (or a gym env, or a function returning either) whose
envs report ``info["hidden_state"]`` (see :mod:`envs`). :func:`explain` runs everything:

1. :func:`trace_episodes`: deterministic episodes, with i, f, g, o, c, h of every actor LSTM layer;
2. :func:`probe_table`: linear probes of each hidden variable from the observation, ``h`` and ``c``;
3. :func:`memory_cells` and :func:`causal_check`: the cells that hold the variable, and what clamping
   them to zero does to the success rate compared with clamping as many random cells;
4. ``gates.png`` and ``probes.png`` (:func:`plot_gates`, :func:`plot_probes`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.artifacts.atomic import atomic_write_json
from recurrent_rl.explain.cells import causal_check, memory_cells, outcome, rank_cells
from recurrent_rl.explain.lstm import GATES, lstm_step, recurrent_policy
from recurrent_rl.explain.plots import plot_gates, plot_probes
from recurrent_rl.explain.probes import infer_kind, probe_table, probe_variable, steps_since_visible
from recurrent_rl.explain.trace import Clamp, EnvSource, Trace, as_vec_env, trace_episodes

__all__ = [
    "GATES",
    "Clamp",
    "Trace",
    "causal_check",
    "explain",
    "format_table",
    "lstm_step",
    "memory_cells",
    "plot_gates",
    "plot_probes",
    "probe_table",
    "probe_variable",
    "rank_cells",
    "recurrent_policy",
    "trace_episodes",
]


def _env_kinds(vec_env: VecEnv) -> dict[str, str]:
    try:
        kinds = vec_env.get_attr("hidden_state_kinds", [0])[0]
    except AttributeError:
        return {}
    return dict(kinds) if isinstance(kinds, dict) else {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _pick_variable(probes: list[dict[str, Any]]) -> str | None:
    """The variable the cell state adds most to, over the observation (c score - obs score)."""
    scored = [row for row in probes if "skipped" not in row]
    return max(scored, key=lambda row: row["c"] - row["obs"])["variable"] if scored else None


def explain(
    policy: Any,
    env: EnvSource,
    n_episodes: int = 200,
    seed: int = 0,
    out_dir: str | Path = "explain",
    *,
    variable: str | None = None,
    k: int | None = None,
    kinds: dict[str, str] | None = None,
    needed_step: int | None = None,
) -> dict[str, Any]:
    """Run the whole analysis; write ``trace.npz``, ``summary.json``, ``gates.png`` and ``probes.png``.

    ``variable`` (default: the one the cell state adds most to) gets the memory-cell ranking and the
    causal check with ``k`` cells (default a quarter of the cells). ``kinds`` overrides the env's
    ``hidden_state_kinds``. ``needed_step`` marks where the information is needed in ``gates.png``
    (default: the last step of the plotted episode). Raises ValueError for a memoryless policy.
    """
    policy = recurrent_policy(policy)
    vec_env = as_vec_env(env)
    built = vec_env is not env and not isinstance(env, gym.Env)  # made here from a function: closed here
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        trace = trace_episodes(policy, vec_env, n_episodes, seed)
        kinds = {**_env_kinds(vec_env), **(kinds or {})}
        probes = probe_table(trace, kinds)
        variable = variable or _pick_variable(probes)
        k = k or max(1, trace.n_cells // 4)
        summary: dict[str, Any] = {
            "n_episodes": trace.n_episodes,
            "n_steps": trace.n_steps,
            "seed": seed,
            "n_envs": vec_env.num_envs,
            "lstm": {"layers": int(trace.c.shape[1]), "cells": trace.n_cells},
            "outcome": outcome(trace),
            "probes": probes,
            "memory_cells": None,
            "causal": None,
        }
        order = None
        if variable is not None:
            kind = kinds.get(variable) or infer_kind(trace.hidden_state[variable])
            cells = memory_cells(trace, variable, kind, k)
            order = cells["order"]
            summary["memory_cells"] = cells
            summary["causal"] = causal_check(
                policy, vec_env, trace, variable, np.array(order[:k]), seed, seed
            )
        first = trace.episode == 0
        appear = None
        if variable is not None and first.any():
            since, _ = steps_since_visible(trace, variable)
            shown = np.flatnonzero(since[first] == 0)
            appear = int(shown[0]) if len(shown) else None
        needed = needed_step if needed_step is not None else int(trace.step[first].max())
        plot_gates(
            trace,
            out / "gates.png",
            0,
            appear_step=appear,
            needed_step=needed,
            cell_order=order,
            n_marked=k if order is not None else 0,
        )
        plot_probes(probes, out / "probes.png")
        trace.save_npz(out / "trace.npz")
        summary["files"] = {
            name: str(out / name) for name in ("trace.npz", "summary.json", "gates.png", "probes.png")
        }
        summary = _jsonable(summary)
        atomic_write_json(out / "summary.json", summary)
        return summary
    finally:
        if built:
            vec_env.close()


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_table(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of a :func:`explain` summary, for printing as a two-column table."""
    result = summary["outcome"]
    rows = [
        ("episodes", f"{summary['n_episodes']} ({summary['n_steps']} steps, seed {summary['seed']})"),
        (
            "success rate / mean return",
            f"{_number(result['success_rate'])} / {_number(result['mean_return'])}",
        ),
        ("actor LSTM", f"{summary['lstm']['layers']} layer(s) x {summary['lstm']['cells']} cells"),
    ]
    for row in summary["probes"]:
        label = f"probe {row['variable']} ({row['metric']})"
        if "skipped" in row:
            rows.append((label, f"skipped: {row['skipped']}"))
            continue
        scores = "  ".join(f"{name} {_number(row[name])}" for name in ("obs", "h", "c"))
        rows.append((label, f"{scores}  (chance {_number(row['chance'])})"))
        last = row.get("last_step", {})
        if "c" in last:
            scores = "  ".join(f"{name} {_number(last[name])}" for name in ("obs", "h", "c"))
            rows.append(("  at episode end", f"{scores}  (chance {_number(last['chance'])})"))
    cells = summary.get("memory_cells")
    if cells:
        listed = ", ".join(f"#{c['cell']} (f {c['mean_forget']:.2f})" for c in cells["cells"])
        rows.append((f"memory cells for {cells['variable']} (mean forget gate)", listed))
        rows.append(("  other cells' mean forget gate", _number(cells["mean_forget_other_cells"])))
    causal = summary.get("causal")
    if causal:
        metric = "success_rate" if causal["no_clamp"]["success_rate"] is not None else "mean_return"
        values = " / ".join(_number(causal[name][metric]) for name in ("no_clamp", "top_k", "random_k"))
        rows.append(
            (f"{metric.replace('_', ' ')}: no clamp / top {causal['k']} / random {causal['k']}", values)
        )
    return rows
