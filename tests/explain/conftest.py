"""Agents trained once per session with plain sb3-contrib RecurrentPPO, and env factories."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

import envs  # noqa: F401  (registers RecurrentRL/ ids)
from tests.helpers.explain import PPO_KWARGS, TMAZE_KWARGS, vec_env_factory

th.set_num_threads(1)


class StopWhenSolved(BaseCallback):
    """Stop once the last 100 training episodes succeeded at least 98% of the time."""

    def _on_step(self) -> bool:
        buffer = self.model.ep_success_buffer
        return not (len(buffer) >= 100 and np.mean(buffer) >= 0.98)


@pytest.fixture(scope="session")
def tmaze_make() -> Callable[[], DummyVecEnv]:
    return vec_env_factory("RecurrentRL/TMaze-v0", **TMAZE_KWARGS)


@pytest.fixture(scope="session")
def tmaze_model(tmaze_make: Callable[[], DummyVecEnv]) -> RecurrentPPO:
    """An LSTM agent that solves the corridor-5 T-maze (about 20k steps with seed 0)."""
    model = RecurrentPPO("MlpLstmPolicy", tmaze_make(), ent_coef=0.01, **PPO_KWARGS)
    model.learn(60_000, callback=StopWhenSolved())
    return model


@pytest.fixture(scope="session")
def cartpole_model() -> RecurrentPPO:
    """An LSTM agent briefly trained on CartPoleNoVel (20k steps: balances ~100 steps, not solved)."""
    model = RecurrentPPO("MlpLstmPolicy", vec_env_factory("RecurrentRL/CartPoleNoVel-v1")(), **PPO_KWARGS)
    model.learn(20_480)
    return model
