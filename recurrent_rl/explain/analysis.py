"""The whole analysis of one policy: trace, probes, memory cells, causal check, figures and summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.artifacts.atomic import atomic_write_json
from recurrent_rl.explain.actor import recurrent_policy
from recurrent_rl.explain.cells import causal_check, memory_cells, outcome
from recurrent_rl.explain.plots import plot_gates, plot_probes
from recurrent_rl.explain.probes import infer_kind, probe_table, steps_since_visible
from recurrent_rl.explain.records import ExplainSummary, MemoryCells, MemoryShape, ProbeResult
from recurrent_rl.explain.trace import EnvSource, as_vec_env, trace_episodes
from recurrent_rl.explain.trace_record import Trace

#: What :func:`explain` writes in its folder.
FILES = ("trace.npz", "summary.json", "gates.png", "probes.png")


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
) -> ExplainSummary:
    """Run the whole analysis; write ``trace.npz``, ``summary.json``, ``gates.png`` and ``probes.png``.

    ``variable`` (default: the one the memory state adds most to) gets the memory-cell ranking and the
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
        cells = causal = None
        if variable is not None:
            cells = memory_cells(
                trace, variable, kinds.get(variable) or infer_kind(trace.hidden_state[variable]), k
            )
            causal = causal_check(policy, vec_env, trace, variable, np.array(cells.order[:k]), seed, seed)
        _plot(trace, probes, cells, out, needed_step)
        trace.save_npz(out / "trace.npz")
        summary = ExplainSummary(
            n_episodes=trace.n_episodes,
            n_steps=trace.n_steps,
            seed=seed,
            n_envs=vec_env.num_envs,
            memory=MemoryShape(trace.memory, trace.n_layers, trace.n_cells),
            outcome=outcome(trace),
            probes=probes,
            memory_cells=cells,
            causal=causal,
            files={name: str(out / name) for name in FILES},
        )
        atomic_write_json(out / "summary.json", summary.to_json())
        return summary
    finally:
        if built:
            vec_env.close()


def _env_kinds(vec_env: VecEnv) -> dict[str, str]:
    try:
        kinds = vec_env.get_attr("hidden_state_kinds", [0])[0]
    except AttributeError:
        return {}
    return dict(kinds) if isinstance(kinds, dict) else {}


def _pick_variable(probes: list[ProbeResult]) -> str | None:
    """The variable the memory state adds most to, over the observation (its score - the obs score)."""
    gains = {row.variable: row.gain for row in probes if row.gain is not None}
    return max(gains, key=lambda name: gains[name]) if gains else None


def _plot(
    trace: Trace, probes: list[ProbeResult], cells: MemoryCells | None, out: Path, needed_step: int | None
) -> None:
    """``gates.png`` of the first episode (memory cells on top, where the variable shows and is needed)
    and ``probes.png``."""
    first = trace.episode == 0
    appear = None
    if cells is not None and first.any():
        since, _ = steps_since_visible(trace, cells.variable)
        shown = np.flatnonzero(since[first] == 0)
        appear = int(shown[0]) if len(shown) else None
    plot_gates(
        trace,
        out / "gates.png",
        0,
        appear_step=appear,
        needed_step=needed_step if needed_step is not None else int(trace.step[first].max()),
        cell_order=None if cells is None else cells.order,
        n_marked=0 if cells is None else cells.k,
    )
    plot_probes(probes, out / "probes.png")
