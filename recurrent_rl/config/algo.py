"""The ``algo`` section: PPO's settings, named exactly as the Stable-Baselines3 constructor arguments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from recurrent_rl.config.common import ConstraintError, LinearSchedule, Schedule, Section

_SCHEDULE = "a number, or a linear schedule written as data: {linear: [start, end]}"


class AlgoConfig(Section):
    name: Literal["recurrent_ppo", "ppo"] = Field(
        "recurrent_ppo",
        description="recurrent_ppo: a recurrent policy (LSTM or GRU); ppo: the memoryless baseline",
    )
    implementation: Literal["fast", "sb3"] = Field(
        "fast",
        description="recurrent_ppo only: fast (FastRecurrentPPO, ours, the same maths) or sb3 (plain "
        "sb3-contrib RecurrentPPO, for comparison)",
    )
    learning_rate: Schedule = Field(
        3e-4, description=f"Adam's step size, > 0: {_SCHEDULE}, such as {{linear: [1.0e-3, 0.0]}}"
    )
    n_steps: int = Field(
        128,
        ge=1,
        description="steps per env in each rollout; also the length of the sequences the memory is trained "
        "on, unless sequence_length is set",
    )
    batch_size: int = Field(
        128, ge=2, description="transitions per minibatch; at most n_steps * env.n_envs (checked at load)"
    )
    n_epochs: int = Field(10, ge=1, description="passes over each rollout")
    gamma: float = Field(0.99, ge=0, le=1, description="discount factor")
    gae_lambda: float = Field(0.95, ge=0, le=1, description="lambda of the generalised advantage estimate")
    clip_range: Schedule = Field(
        0.2, description=f"PPO's clipping of the probability ratio, > 0: {_SCHEDULE}"
    )
    clip_range_vf: Schedule | None = Field(
        None, description=f"clipping of the value function's change, > 0: {_SCHEDULE}; null: no clipping"
    )
    normalize_advantage: bool = Field(True, description="normalise the advantages of each minibatch")
    ent_coef: float = Field(0.0, ge=0, description="weight of the entropy bonus in the loss")
    vf_coef: float = Field(0.5, ge=0, description="weight of the value loss in the loss")
    max_grad_norm: float = Field(0.5, gt=0, description="gradients are clipped to this global norm")
    use_sde: bool = Field(
        False, description="state-dependent exploration; continuous actions only (checked against the env)"
    )
    sde_sample_freq: int = Field(
        -1, ge=-1, description="with use_sde: new exploration noise every N steps (-1: once per rollout)"
    )
    target_kl: float | None = Field(
        None,
        gt=0,
        description="an update's epochs stop early once the approximate KL divergence exceeds 1.5 * "
        "target_kl; null: no limit",
    )
    sequence_length: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="recurrent_ppo, implementation fast: training sequences are cut at episode starts and "
        "every sequence_length steps (an integer from 1 to n_steps); null: n_steps, sb3-contrib's sequences",
    )
    refresh_states: bool = Field(
        False,
        strict=True,
        description="recurrent_ppo, implementation fast: before each epoch after the first, recompute the "
        "rollout's stored memory states with the current weights (one memory pass over the rollout)",
    )

    @field_validator("learning_rate", "clip_range", "clip_range_vf")
    @classmethod
    def _positive(cls, value: Schedule | None) -> Schedule | None:
        if isinstance(value, float) and value <= 0:
            raise ValueError("must be > 0")
        if isinstance(value, LinearSchedule) and value.start <= 0:
            raise ValueError("the schedule must start > 0")
        return value


def check_sequence_options(algo: AlgoConfig) -> None:
    """``algo.sequence_length`` within the rollout; sb3-contrib's RecurrentPPO has neither option."""
    length, sb3 = algo.sequence_length, algo.implementation == "sb3"
    if length is not None and length > algo.n_steps:
        expected = f"null or an integer from 1 to algo.n_steps = {algo.n_steps}"
        raise ConstraintError("algo.sequence_length", length, expected)
    if sb3 and length not in (None, algo.n_steps):
        fast = "implementation: fast has the option"
        expected = f"null or algo.n_steps = {algo.n_steps} with algo.implementation: sb3 ({fast})"
        raise ConstraintError("algo.sequence_length", length, expected)
    if sb3 and algo.refresh_states:
        expected = "false with algo.implementation: sb3 (implementation: fast has the option)"
        raise ConstraintError("algo.refresh_states", True, expected)
