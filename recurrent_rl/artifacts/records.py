"""The run records: one status type, one evaluation record, one run summary; read and written only here.

``evaluations.json`` is a list of :class:`EvalRecord`; ``summary.json`` is a :class:`RunSummary` whose
``final_eval`` and ``best_eval`` are :class:`EvalRecord` too; ``recurrent-rl evaluate --json`` prints one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from recurrent_rl.artifacts import run_folder
from recurrent_rl.artifacts.atomic import atomic_write_json
from recurrent_rl.errors import UserError

RunStatus = Literal["running", "completed", "stopped_early", "interrupted", "failed"]
FINISHED: tuple[RunStatus, ...] = ("completed", "stopped_early")


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class EvalRecord(_Record):
    """One evaluation: N episodes of a policy, at ``timesteps`` of training (None outside training)."""

    timesteps: int | None = None
    mean_return: float
    std_return: float
    success_rate: float | None = None
    success_ci95: tuple[float, float] | None = None
    n_episodes: int
    mean_length: float | None = None

    def rank(self) -> tuple[float, float]:
        """Better evaluations rank higher: success rate first, then mean return."""
        success = -math.inf if self.success_rate is None else self.success_rate
        return (success, self.mean_return)

    def metric(self, name: str) -> float | None:
        """``success_rate`` or ``mean_return`` by name."""
        value = getattr(self, name)
        return None if value is None else float(value)


class RunSummary(_Record):
    """``summary.json``: how a run ended (or that it is running), its totals and its evaluations."""

    status: RunStatus
    message: str = ""
    total_timesteps: int = 0
    wall_time_s: float | None = None
    fps: float | None = None
    final_eval: EvalRecord | None = None
    best_eval: EvalRecord | None = None
    checkpoint: str | None = None
    seed: int | None = None
    algorithm: str | None = None
    policy: str | None = None
    device: str | None = None  # the torch device the model trained on (train.device: auto picks one)
    collect_time_s: float | None = None  # seconds collecting rollouts (with the callbacks run meanwhile)
    train_time_s: float | None = None  # seconds updating the policy
    # timesteps of the checkpoints this run was resumed from: from there on it drew fresh random numbers
    # (seeded from seed + timesteps), so it is not the uninterrupted run of its seed
    resumed_at: list[int] = []


def best_of(history: list[EvalRecord]) -> EvalRecord | None:
    """The best evaluation of ``history`` (see :meth:`EvalRecord.rank`), or None."""
    return max(history, key=EvalRecord.rank) if history else None


def read_json(path: Path) -> Any:
    """A JSON file's data; a UserError naming the file when it is missing, not JSON, or holds a number
    that is not finite (``NaN``, ``Infinity``, ``1e999``: records hold finite numbers only)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: not found") from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read ({error})") from None
    try:
        return json.loads(text, parse_constant=_not_finite, parse_float=_finite)
    except _NonFinite as error:
        raise UserError(f"{path}: holds {error}, not a finite number (a damaged record)") from None
    except ValueError as error:
        raise UserError(f"{path}: not valid JSON ({error})") from None


class _NonFinite(Exception):
    pass


def _not_finite(text: str) -> float:
    raise _NonFinite(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(text)
    return value


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def write_summary(run_dir: Path, summary: RunSummary) -> None:
    atomic_write_json(run_dir / run_folder.SUMMARY, summary.model_dump(mode="json"))


def read_summary(run_dir: Path) -> RunSummary | None:
    """The run's summary, or None when it has none yet; a UserError when the file is damaged."""
    path = run_dir / run_folder.SUMMARY
    if not path.is_file():
        return None
    try:
        return RunSummary.model_validate(read_json(path))
    except ValidationError as error:
        raise UserError(f"{path}: not a run summary ({_problem(error)})") from None


def write_history(run_dir: Path, history: list[EvalRecord]) -> None:
    atomic_write_json(
        run_dir / run_folder.EVALUATIONS, [record.model_dump(mode="json") for record in history]
    )


def read_history(run_dir: Path) -> list[EvalRecord]:
    """The run's evaluations, oldest first ([] when there are none yet)."""
    path = run_dir / run_folder.EVALUATIONS
    if not path.is_file():
        return []
    data = read_json(path)
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of evaluations")
    try:
        return [EvalRecord.model_validate(entry) for entry in data]
    except ValidationError as error:
        raise UserError(f"{path}: not an evaluation history ({_problem(error)})") from None
