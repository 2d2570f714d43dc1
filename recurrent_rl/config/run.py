"""The ``train`` and ``logging`` sections: budget, evaluations, checkpoints, and where runs are written."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from recurrent_rl.config.common import NAME_PATTERN, Section
from recurrent_rl.config.values import Seed


class StopAt(Section):
    """Stop early once an evaluation reaches one of these (both may be given: either suffices)."""

    success_rate: float | None = Field(None, gt=0, le=1, description="stop at this evaluation success rate")
    mean_return: float | None = Field(None, description="stop at this evaluation mean return")

    @model_validator(mode="after")
    def _one_target(self) -> StopAt:
        if self.success_rate is None and self.mean_return is None:
            raise ValueError("give success_rate and/or mean_return")
        return self


class TrainConfig(Section):
    total_timesteps: int = Field(100_000, ge=1, description="env steps to train for, summed over the envs")
    seed: Seed = Field(0, description="seed of the envs, the agent and the evaluation envs")
    device: Literal["cpu", "auto", "cuda"] = Field("cpu", description="the torch device")
    eval_freq: int = Field(10_000, ge=0, description="timesteps between evaluations (0: none)")
    n_eval_episodes: int = Field(20, ge=1, description="episodes per evaluation")
    eval_deterministic: bool = Field(True, description="evaluations take greedy actions")
    checkpoint_freq: int = Field(50_000, ge=0, description="timesteps between checkpoints (0: none)")
    keep_checkpoints: int | None = Field(
        5, ge=1, description="keep the newest N checkpoints (and the best evaluation's); null: keep all"
    )
    stop_at: StopAt | None = Field(
        None,
        description="stop once an evaluation reaches success_rate and/or mean_return (either suffices); "
        "needs eval_freq > 0; null: train to total_timesteps",
    )
    torch_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="torch threads; 1 is fastest for these small networks on a 2-core machine",
    )
    progress_bar: bool | None = Field(
        None, description="show a progress bar while training; null: when stderr is a terminal"
    )


class LoggingConfig(Section):
    experiment: str | None = Field(
        None,
        description="the experiment's folder name under runs_dir (letters, digits, '_', '-', '.'); null: the "
        "config file's name",
    )
    runs_dir: str = Field("runs", description="runs are written to <runs_dir>/<experiment>/<run-id>/")

    @field_validator("experiment")
    @classmethod
    def _folder_name(cls, value: str | None) -> str | None:
        if value is not None and not NAME_PATTERN.match(value):
            raise ValueError("must be a folder name of letters, digits, '_', '-', '.'")
        return value
