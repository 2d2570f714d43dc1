"""The explain summary as typed records; :meth:`ExplainSummary.to_json` gives ``summary.json``'s data.

Fields marked :data:`OPTIONAL` are left out of the JSON when they are None (a skipped probe has no
scores); every other None is written as ``null``, and so is a non-finite float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

#: Field metadata: leave the field out of the JSON when it is None.
OPTIONAL = {"optional": True}


def to_json(value: Any) -> Any:
    """``value`` (records, dicts, lists, numpy scalars) as JSON data; non-finite floats become None."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(getattr(value, f.name))
            for f in fields(value)
            if not (f.metadata.get("optional") and getattr(value, f.name) is None)
        }
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Outcome:
    """Success rate (None without ``is_success``) and mean return of a trace's episodes."""

    success_rate: float | None
    mean_return: float


@dataclass(frozen=True)
class LastStepScores:
    """Probe scores on each episode's final step (left out when there are too few such rows)."""

    rows: int
    chance: float | None
    obs: float | None = field(default=None, metadata=OPTIONAL)
    h: float | None = field(default=None, metadata=OPTIONAL)
    c: float | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class Retention:
    """Probe scores by the number of steps since the information was visible (``basis``); ``c`` is None
    for a memory without a cell state (GRU)."""

    basis: str
    steps: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    obs: list[float] = field(default_factory=list)
    h: list[float] = field(default_factory=list)
    c: list[float] | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class ProbeResult:
    """Linear-probe scores of one hidden variable from the observation and the memory's states (``h``, and
    ``c`` for an LSTM), or why skipped. ``state`` names the state that holds the memory (LSTM ``c``, GRU
    ``h``)."""

    variable: str
    kind: str
    metric: str
    rows: int
    skipped: str | None = field(default=None, metadata=OPTIONAL)
    chance: float | None = field(default=None, metadata=OPTIONAL)
    state: str | None = field(default=None, metadata=OPTIONAL)
    obs: float | None = field(default=None, metadata=OPTIONAL)
    h: float | None = field(default=None, metadata=OPTIONAL)
    c: float | None = field(default=None, metadata=OPTIONAL)
    last_step: LastStepScores | None = field(default=None, metadata=OPTIONAL)
    retention: Retention | None = field(default=None, metadata=OPTIONAL)

    @property
    def gain(self) -> float | None:
        """How much better the memory state predicts the variable than the observation (None if skipped)."""
        held = None if self.state is None else getattr(self, self.state)
        return None if held is None or self.obs is None else held - self.obs


@dataclass(frozen=True)
class MemoryCell:
    """One cell of the memory state: its share of the probe's decision, probe weight and mean keep gate
    (LSTM forget gate f, GRU update gate z) while held."""

    cell: int
    contribution: float
    weight: float
    mean_keep: float


@dataclass(frozen=True)
class MemoryCells:
    """The top-``k`` cells of ``state`` (LSTM ``c``, GRU ``h``) for ``variable`` (of memory layer ``layer``),
    with the mean of ``keep_gate`` (LSTM ``f``, GRU ``z``); ``order`` ranks every cell."""

    variable: str
    layer: int
    k: int
    state: str
    keep_gate: str
    held_steps: int
    cells: list[MemoryCell]
    mean_keep_other_cells: float | None
    order: list[int]


@dataclass(frozen=True)
class CausalCheck:
    """The outcome with the top-``k`` cells clamped to zero, against as many random cells, and no clamp."""

    variable: str
    k: int
    clamp_from: str
    top_cells: list[int]
    random_cells: list[int]
    no_clamp: Outcome
    top_k: Outcome
    random_k: Outcome


@dataclass(frozen=True)
class MemoryShape:
    """The actor's memory: its kind (``lstm``, ``gru``), layers and cells per layer."""

    kind: str
    layers: int
    cells: int


@dataclass(frozen=True)
class ExplainSummary:
    """``summary.json``: what was played, the probes, the memory cells and the causal check."""

    n_episodes: int
    n_steps: int
    seed: int
    n_envs: int
    memory: MemoryShape
    outcome: Outcome
    probes: list[ProbeResult]
    memory_cells: MemoryCells | None
    causal: CausalCheck | None
    files: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = to_json(self)
        return data
