"""Look inside the memory (LSTM or GRU) of a recurrent policy: gates, linear probes, memory cells and a
causal check.

Works on plain objects: an sb3-contrib recurrent policy (``RecurrentActorCriticPolicy`` or a subclass,
or an algorithm holding one) and an SB3 VecEnv (or a gym env, or a function returning either) whose
envs report ``info["hidden_state"]`` (see :mod:`envs`). :func:`explain` (:mod:`.analysis`) runs everything
and returns an :class:`ExplainSummary` (:mod:`.records`), the data of ``summary.json``:

1. :func:`trace_episodes`: deterministic episodes, with the gates of every actor memory layer recomputed
   from the weights (LSTM i, f, g, o, c, h; GRU r, z, n, h);
2. :func:`probe_table`: linear probes of each hidden variable from the observation and the memory's states
   (``h``, and ``c`` for an LSTM);
3. :func:`memory_cells` and :func:`causal_check`: the cells of the memory state (LSTM ``c``, GRU ``h``) that
   hold the variable, and what clamping them to zero does to the success rate compared with clamping as
   many random cells;
4. ``gates.png`` and ``probes.png`` (:func:`plot_gates`, :func:`plot_probes`).
"""

from __future__ import annotations

from recurrent_rl.explain.actor import recurrent_policy
from recurrent_rl.explain.analysis import explain
from recurrent_rl.explain.cells import causal_check, memory_cells, rank_cells
from recurrent_rl.explain.plots import plot_gates, plot_probes
from recurrent_rl.explain.probes import probe_table, probe_variable
from recurrent_rl.explain.records import ExplainSummary
from recurrent_rl.explain.table import format_table
from recurrent_rl.explain.trace import Clamp, trace_episodes
from recurrent_rl.explain.trace_record import Trace

__all__ = [
    "Clamp",
    "ExplainSummary",
    "Trace",
    "causal_check",
    "explain",
    "format_table",
    "memory_cells",
    "plot_gates",
    "plot_probes",
    "probe_table",
    "probe_variable",
    "rank_cells",
    "recurrent_policy",
    "trace_episodes",
]
