"""A wrapper that appends the previous action and reward to the observation (for hidden dynamics or goals)."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs._encoding import encode, flat_box
from envs._validation import check_float
from envs.observation_wrappers import Array


class PreviousActionReward(gym.Wrapper[Array, Any, Array, Any], gym.utils.RecordConstructorArgs):
    """Append the previous action and the previous reward to the observation.

    A 1-D Box observation is kept as it is; a Discrete, MultiDiscrete or MultiBinary one is first encoded
    as Stable-Baselines3 preprocesses it (one-hot, concatenated one-hots, bits). The action is one-hot
    encoded for ``Discrete`` (``n`` entries) and ``MultiDiscrete`` (concatenated one-hots) spaces and
    appended raw (flattened, clipped to its bounds) for ``Box`` and ``MultiBinary`` ones; the reward is one
    trailing entry. Both are zeros in the observation returned by ``reset``. Observation dtype: float32
    (float64 if the wrapped observation is a float64 Box).

    Args:
        env: environment with a 1-D Box, Discrete, MultiDiscrete or MultiBinary observation space
            (flatten images etc. first).
        reward_bound: if given (> 0), the appended reward is clipped to ``[-reward_bound, reward_bound]``
            and the space gets those finite bounds; ``None`` (default) leaves it unbounded.
        reward: False appends the previous action only (as POPGym's baselines do): where the reward tells
            whether the last answer was right, it can stand in for memory.
    """

    def __init__(
        self, env: gym.Env[Array, Any], reward_bound: float | None = None, reward: bool = True
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, reward_bound=reward_bound, reward=reward)
        gym.Wrapper.__init__(self, env)
        box = flat_box(env.observation_space, "previous_action_reward")
        if not isinstance(reward, bool):
            raise ValueError(f"reward={reward!r} is invalid: expected true or false")
        self.reward = reward
        self.reward_bound = (
            None if reward_bound is None else check_float("reward_bound", reward_bound, 0.0, low_open=True)
        )
        bound = np.inf if self.reward_bound is None else self.reward_bound
        r_low, r_high = ([-bound], [bound]) if reward else ([], [])

        action_space = env.action_space
        if isinstance(action_space, spaces.Discrete):
            self._action_size = int(action_space.n)
            a_low, a_high = np.zeros(self._action_size), np.ones(self._action_size)
        elif isinstance(action_space, spaces.MultiDiscrete):
            self._action_size = int(action_space.nvec.sum())
            a_low, a_high = np.zeros(self._action_size), np.ones(self._action_size)
        elif isinstance(action_space, spaces.MultiBinary):
            self._action_size = int(np.prod(action_space.shape))
            a_low, a_high = np.zeros(self._action_size), np.ones(self._action_size)
        elif isinstance(action_space, spaces.Box):
            self._action_size = int(np.prod(action_space.shape))
            a_low, a_high = action_space.low.reshape(-1), action_space.high.reshape(-1)
        else:
            raise ValueError(
                "previous_action_reward supports Discrete, MultiDiscrete, MultiBinary and Box action "
                f"spaces, got {action_space}"
            )
        dtype = np.float64 if box.dtype == np.float64 else np.float32
        self._obs_size = int(box.shape[0])
        self.observation_space = spaces.Box(
            np.concatenate([box.low, a_low, r_low]).astype(dtype),
            np.concatenate([box.high, a_high, r_high]).astype(dtype),
            dtype=dtype,
        )

    def _encode_action(self, action: Any) -> Array:
        space = self.env.action_space
        out = np.zeros(self._action_size, dtype=np.float64)
        if isinstance(space, spaces.Discrete):
            out[int(action) - int(space.start)] = 1.0
        elif isinstance(space, spaces.MultiDiscrete):
            offsets = np.concatenate([[0], np.cumsum(space.nvec.reshape(-1))[:-1]])
            out[offsets + np.asarray(action).reshape(-1) - space.start.reshape(-1)] = 1.0
        elif isinstance(space, spaces.Box):
            out[:] = np.clip(
                np.asarray(action, dtype=np.float64).reshape(-1),
                space.low.reshape(-1),
                space.high.reshape(-1),
            )
        else:
            out[:] = np.asarray(action, dtype=np.float64).reshape(-1)
        return out

    def _augment(self, observation: Array, action: Array, reward: float) -> Array:
        box = self.observation_space
        assert isinstance(box, spaces.Box)
        out = np.empty(box.shape, dtype=box.dtype)
        out[: self._obs_size] = encode(self.env.observation_space, np.asarray(observation)[None])[0]
        out[self._obs_size : self._obs_size + self._action_size] = action
        if self.reward:
            bound = self.reward_bound
            out[-1] = reward if bound is None else np.clip(reward, -bound, bound)
        return out

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Array, Any]:
        observation, info = self.env.reset(seed=seed, options=options)
        return self._augment(observation, np.zeros(self._action_size), 0.0), info

    def step(self, action: Any) -> tuple[Array, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        augmented = self._augment(observation, self._encode_action(action), float(reward))
        return augmented, reward, terminated, truncated, info
