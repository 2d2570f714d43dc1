"""``SuccessFromReturn``: report ``info["is_success"]`` for envs whose success shows only in the return.

Some envs succeed or fail without saying so: a MiniGrid episode succeeds when it reaches its goal, which
pays ``1 - 0.9 * steps / max_steps > 0``, and fails with a return of 0 (a wrong object, the time limit).
Training's evaluations, ``recurrent-rl evaluate``, TensorBoard and ``train.stop_at: {success_rate: ...}``
read ``info["is_success"]`` at the end of an episode; this wrapper sets it there, from the episode's
return. From YAML, by import path::

    env:
      wrappers:
        - minigrid.wrappers:ImgObsWrapper
        - envs.success:SuccessFromReturn     # is_success = return > 0 (threshold: 0.0)
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium as gym

from envs._validation import check_float


class SuccessFromReturn(gym.Wrapper[Any, Any, Any, Any], gym.utils.RecordConstructorArgs):
    """Set ``info["is_success"] = return > threshold`` on the last step of every episode.

    The last step is the one that terminates or truncates the episode (also by a time limit inside this
    wrapper). An ``is_success`` the env reports itself is left as it is. Other steps are unchanged.

    Args:
        env: any environment.
        threshold: a finite number; an episode whose return is above it succeeded (default 0.0).
    """

    def __init__(self, env: gym.Env[Any, Any], threshold: float = 0.0) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, threshold=threshold)
        gym.Wrapper.__init__(self, env)
        self.threshold = check_float("threshold", threshold, -math.inf)
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold={threshold!r} is out of range: expected a finite number")
        self._return = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        self._return = 0.0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        if (terminated or truncated) and "is_success" not in info:
            info = {**info, "is_success": self._return > self.threshold}
        return observation, reward, terminated, truncated, info
