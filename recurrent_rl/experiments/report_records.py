"""The typed records of a report: one per (config, grid point) group, the recurrent-vs-memoryless
improvements, and the report itself (built by :mod:`.report`, drawn by :mod:`.markdown` and :mod:`.plots`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recurrent_rl.experiments.results import Group, Skipped
from recurrent_rl.experiments.stats import Estimate


@dataclass(frozen=True)
class Curve:
    """IQM over seeds at each evaluation timestep; ``carried``: a run ended early and its last value
    stands for the later timesteps."""

    timesteps: np.ndarray
    iqm: np.ndarray
    low: np.ndarray
    high: np.ndarray
    carried: bool


@dataclass(frozen=True)
class GroupReport:
    group: Group
    values: list[float]
    iqm: Estimate
    mean: float
    std: float
    steps_to_target: list[int | None] | None  # None: the config sets no train.stop_at
    curve: Curve | None
    bound: float | None

    @property
    def seeds(self) -> list[int]:
        return [run.seed for run in self.group.runs]


@dataclass(frozen=True)
class Improvement:
    recurrent: GroupReport
    memoryless: GroupReport
    estimate: Estimate


@dataclass(frozen=True)
class Report:
    metric: str
    groups: list[GroupReport]
    improvements: list[Improvement]
    skipped: list[Skipped] = field(default_factory=list)  # folders not read as runs, with the reason

    @property
    def grid_keys(self) -> list[str]:
        return list(dict.fromkeys(key for g in self.groups for key, _ in g.group.point))
