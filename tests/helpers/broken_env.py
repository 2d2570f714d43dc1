"""An env that raises at step time (a crash in user code), registered as ``RecurrentRLTest/Broken-v0``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

ENV_ID = "RecurrentRLTest/Broken-v0"


class BrokenEnv(gym.Env[np.ndarray, int]):
    """Observations of zeros; ``step`` raises after ``fail_after`` steps."""

    def __init__(self, fail_after: int = 5) -> None:
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.action_space = spaces.Discrete(3)
        self.fail_after = fail_after
        self._steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.zeros(4, dtype=np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._steps += 1
        if self._steps > self.fail_after:
            raise RuntimeError("the broken env failed on purpose")
        return np.zeros(4, dtype=np.float32), 0.0, False, False, {}


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=BrokenEnv, max_episode_steps=20)
