"""Every registered RecurrentRL/ id and a working argument set for every POMDP wrapper, for the env tests.

The ids come from ``gymnasium.registry``, not a hard-coded list, so environments added to
``envs/__init__.py`` are covered automatically; one whose module does not exist yet is skipped.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import gymnasium as gym
import pytest

import envs

ENV_IDS = sorted(env_id for env_id in gym.registry if env_id.startswith(f"{envs.NAMESPACE}/"))

# Warnings an env is allowed to raise, with the reason; everything else fails the checks.
KNOWN_WARNINGS: dict[str, tuple[str, ...]] = {
    # Pendulum-v1's torque space Box(-2, 2) is kept (not rescaled to [-1, 1]) so that the zoo's
    # PendulumNoVel numbers and hyperparameters carry over; both checkers merely recommend [-1, 1].
    "RecurrentRL/PendulumNoVel-v1": ("symmetric and normalized",),
}
# Any wrapper makes Gymnasium's checker say it is "different from the unwrapped version".
WRAPPER_NOTICE = "is different from the unwrapped version"

WRAPPER_SPECS: dict[str, dict[str, Any]] = {
    "mask_observation": {"indices": [1, 3]},
    "flicker": {"p": 0.5},
    "observation_noise": {"std": 0.1},
    "previous_action_reward": {"reward_bound": 1.0},
}


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make``, skipping the test if the env's module has not been written yet."""
    entry_point = gym.registry[env_id].entry_point
    if isinstance(entry_point, str):
        module = entry_point.split(":")[0]
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{env_id}: module {module} does not exist yet")
    return gym.make(env_id, **kwargs)
