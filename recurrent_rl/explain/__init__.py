"""Look inside the LSTM of a recurrent policy: gates, linear probes, memory cells and a causal check.

Works on plain objects: an sb3-contrib recurrent policy (``RecurrentActorCriticPolicy`` or a subclass,
or an algorithm holding one) and an SB3 VecEnv (or a gym env, or a function returning either) whose
envs report ``info["hidden_state"]`` (see :mod:`envs`). :func:`explain` (:mod:`.analysis`) runs everything
and returns an :class:`ExplainSummary` (:mod:`.records`), the data of ``summary.json``:

1. :func:`trace_episodes`: deterministic episodes, with i, f, g, o, c, h of every actor LSTM layer;
2. :func:`probe_table`: linear probes of each hidden variable from the observation, ``h`` and ``c``;
3. :func:`memory_cells` and :func:`causal_check`: the cells that hold the variable, and what clamping
   them to zero does to the success rate compared with clamping as many random cells;
4. ``gates.png`` and ``probes.png`` (:func:`plot_gates`, :func:`plot_probes`).
"""

from __future__ import annotations

from recurrent_rl.explain.analysis import explain
from recurrent_rl.explain.cells import causal_check, memory_cells, rank_cells
from recurrent_rl.explain.lstm import GATES, lstm_step, recurrent_policy
from recurrent_rl.explain.plots import plot_gates, plot_probes
from recurrent_rl.explain.probes import probe_table, probe_variable
from recurrent_rl.explain.records import ExplainSummary
from recurrent_rl.explain.table import format_table
from recurrent_rl.explain.trace import Clamp, trace_episodes
from recurrent_rl.explain.trace_record import Trace

__all__ = [
    "GATES",
    "Clamp",
    "ExplainSummary",
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
