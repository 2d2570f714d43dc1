"""The experiment schema: one YAML file, five sections, validated when it loads.

Each section is a model of its own module (:mod:`.env`, :mod:`.algo`, :mod:`.policy`, :mod:`.run`); this
module joins them into :class:`Config` with the constraints between sections, and is where the rest of the
package imports every schema name from. Keys of ``algo`` are named exactly as the Stable-Baselines3
constructor arguments. Schedules are data (``{linear: [start, end]}``), never code. Every field carries its
description, from which ``scripts/gen_reference.py`` writes the reference of ``docs/configuration.md``.
Loading, ``base:`` inheritance, ``--set`` overrides and error messages live in :mod:`.loader`.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from recurrent_rl.config.algo import AlgoConfig, check_sequence_options
from recurrent_rl.config.common import MODULE_PATTERN as _MODULE
from recurrent_rl.config.common import NAME_PATTERN as _NAME
from recurrent_rl.config.common import ConstraintError, LinearSchedule, Schedule
from recurrent_rl.config.common import Section as _Section
from recurrent_rl.config.env import EnvConfig, NormalizeConfig, WrapperName, WrapperSpec
from recurrent_rl.config.policy import (
    MEMORYLESS_POLICIES,
    RECURRENT_POLICIES,
    ActivationName,
    FeatureExtractorName,
    MemoryName,
    PolicyConfig,
)
from recurrent_rl.config.run import LoggingConfig, StopAt, TrainConfig

__all__ = [
    "MEMORYLESS_POLICIES",
    "RECURRENT_POLICIES",
    "_MODULE",
    "_NAME",
    "ActivationName",
    "AlgoConfig",
    "Config",
    "ConstraintError",
    "EnvConfig",
    "FeatureExtractorName",
    "LinearSchedule",
    "LoggingConfig",
    "MemoryName",
    "NormalizeConfig",
    "PolicyConfig",
    "Schedule",
    "StopAt",
    "TrainConfig",
    "WrapperName",
    "WrapperSpec",
    "_Section",
]


class Config(_Section):
    env: EnvConfig = Field(description="the environment, its wrappers and the vector env it runs in")
    algo: AlgoConfig = Field(
        default_factory=AlgoConfig,
        description="the algorithm; every key is named exactly as the Stable-Baselines3 constructor argument",
    )
    policy: PolicyConfig = Field(
        default_factory=PolicyConfig,
        description="the policy: its class, memory (LSTM or GRU) and MLP layers; the memory keys are ignored "
        "when algo.name is ppo",
    )
    train: TrainConfig = Field(
        default_factory=TrainConfig,
        description="the training budget, evaluations, checkpoints, early stop and threads",
    )
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="where runs are written")

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        """Cross-section constraints that Stable-Baselines3 would only find when the model is built."""
        algo, policy = self.algo, self.policy
        rollout = algo.n_steps * self.env.n_envs
        if rollout < 2:
            raise ConstraintError("algo.n_steps", algo.n_steps, "n_steps * env.n_envs must be > 1")
        if algo.batch_size > rollout:
            raise ConstraintError(
                "algo.batch_size",
                algo.batch_size,
                f"at most algo.n_steps * env.n_envs = {algo.n_steps} * {self.env.n_envs} = {rollout}",
            )
        recurrent = algo.name == "recurrent_ppo"
        if recurrent and policy.type not in RECURRENT_POLICIES:
            raise ConstraintError(
                "policy.type", policy.type, f"one of {', '.join(RECURRENT_POLICIES)} for recurrent_ppo"
            )
        # LSTM keys are ignored by ppo, so a memoryless baseline can inherit (base:) its recurrent config.
        if not recurrent and policy.type not in MEMORYLESS_POLICIES:
            expected = f"one of {', '.join(MEMORYLESS_POLICIES)} for ppo"
            raise ConstraintError("policy.type", policy.type, expected)
        if not policy.type.startswith("Cnn"):
            if policy.features_extractor != "nature_cnn":
                raise ConstraintError(
                    "policy.features_extractor",
                    policy.features_extractor,
                    "nature_cnn (the default) unless policy.type is a Cnn policy",
                )
            if policy.features_dim is not None:
                raise ConstraintError(
                    "policy.features_dim", policy.features_dim, "null unless policy.type is a Cnn policy"
                )
            if not policy.normalize_images:
                raise ConstraintError(
                    "policy.normalize_images", False, "true (the default) unless policy.type is a Cnn policy"
                )
        if recurrent:
            check_sequence_options(algo)
        if recurrent and policy.memory != "lstm" and algo.implementation == "sb3":
            expected = "lstm with algo.implementation: sb3 (sb3-contrib's RecurrentPPO has only the LSTM)"
            raise ConstraintError("policy.memory", policy.memory, expected)
        if recurrent and policy.shared_lstm and policy.enable_critic_lstm:
            raise ConstraintError(
                "policy.shared_lstm",
                True,
                "shared_lstm: true needs enable_critic_lstm: false (choose one critic LSTM)",
            )
        stop = self.train.stop_at
        if stop is not None and self.train.eval_freq == 0:
            raise ConstraintError(
                "train.stop_at", stop.model_dump(exclude_none=True), "needs train.eval_freq > 0"
            )
        return self
