"""One training process on one run folder, and what a resumed run keeps from before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recurrent_rl.artifacts.records import EvalRecord
from recurrent_rl.config.schema import Config
from recurrent_rl.training.signals import Signals

AfterEval = Callable[[EvalRecord], str | None]  # told each evaluation; a reason returned stops the run


@dataclass(frozen=True)
class Previous:
    """What a resumed run keeps: evaluations up to the checkpoint, the best model's record, time spent,
    and the timesteps of every checkpoint it was resumed from (this one last)."""

    history: list[EvalRecord]
    best: EvalRecord | None
    wall_time: float
    resumed_at: list[int]


@dataclass(frozen=True)
class Session:
    """One training process on one run folder."""

    cfg: Config
    run_dir: Path
    config_yaml: str
    signals: Signals
    after_eval: AfterEval | None = None
