"""Blink: a bit is shown on the first step and asked for ``gap`` steps later. The smallest memory task.

Observation ``[bit is 0, bit is 1, question]`` (float32): the bit is visible on the first step only; the
question flag is set ``gap`` steps later. The action (0 or 1) on the question step is the answer: reward +1
and ``info["is_success"] = True`` if it names the bit, -1 and False if not, and the episode ends. Other
actions do nothing. Episodes last ``gap + 1`` steps. An agent with memory is always right (return 1); a
memoryless one sees the same question either way and is right half the time (return 0).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Blink(gym.Env):
    metadata = {"render_modes": ["ansi"]}

    def __init__(self, gap: int = 5, render_mode: str | None = None) -> None:
        if not 1 <= gap <= 1000:
            raise ValueError(f"gap={gap} is out of range: expected an integer in [1, 1000]")
        self.gap = gap
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._bit, self._t = 0, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)  # seeds self.np_random: the same seed gives the same episode
        self._bit, self._t = int(self.np_random.integers(2)), 0
        return self._observation(), {}

    def step(self, action):
        if self._t == self.gap:  # the question was on screen: this action is the answer
            correct = int(action) == self._bit
            return self._observation(), 1.0 if correct else -1.0, True, False, {"is_success": correct}
        self._t += 1
        return self._observation(), 0.0, False, False, {}

    def render(self) -> str:
        shown = str(self._bit) if self._t == 0 else "?" if self._t == self.gap else "."
        return f"step {self._t}: {shown}"

    def _observation(self) -> np.ndarray:
        first = self._t == 0
        return np.array([first and self._bit == 0, first and self._bit == 1, self._t == self.gap], np.float32)


# `env.id: my_pomdp:Blink-v0` (or `env.import: my_pomdp` with `env.id: Blink-v0`) imports this file first.
gym.register("Blink-v0", entry_point="my_pomdp:Blink", max_episode_steps=100)
