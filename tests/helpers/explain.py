"""The explain tests' settings (configs/tmaze.yaml's hyperparameters) and env factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

import envs  # noqa: F401  (registers RecurrentRL/ ids)

TMAZE_KWARGS = {"corridor_length": 5}
# configs/tmaze.yaml's hyperparameters (LSTM 32, n_steps 64, 8 envs, lr 1e-3, ent 0.01).
PPO_KWARGS: dict[str, Any] = {
    "n_steps": 64,
    "batch_size": 128,
    "n_epochs": 4,
    "learning_rate": 1e-3,
    "policy_kwargs": {"lstm_hidden_size": 32, "net_arch": {"pi": [32], "vf": [32]}},
    "device": "cpu",
    "seed": 0,
}


def vec_env_factory(env_id: str, n_envs: int = 8, **kwargs: Any) -> Callable[[], DummyVecEnv]:
    """A function building a DummyVecEnv of ``n_envs`` Monitor-wrapped ``env_id`` envs."""

    def make() -> DummyVecEnv:
        return DummyVecEnv([lambda: Monitor(gym.make(env_id, **kwargs)) for _ in range(n_envs)])

    return make
