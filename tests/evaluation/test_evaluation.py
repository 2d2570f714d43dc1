"""Evaluation carries the recurrent state within an episode and resets it between episodes."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from recurrent_rl.evaluation.episodes import EvalResult, episode_numbers, evaluate


class CountingEnv(gym.Env[np.ndarray, np.int64]):
    """Rewards action == step index within the episode; an episode lasts ``length`` steps."""

    def __init__(self, length: int = 5) -> None:
        self.length = length
        self.observation_space = spaces.Box(0.0, 1.0, (1,), np.float32)
        self.action_space = spaces.Discrete(64)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action: Any) -> Any:
        correct = int(action) == self.t
        self.t += 1
        done = self.t >= self.length
        info = {"is_success": True} if done else {}
        return np.zeros(1, np.float32), float(correct), done, False, info


class StepCounterPolicy:
    """A recurrent 'policy' whose state counts steps; like SB3 it zeroes the state at episode starts."""

    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False
    ):
        n = len(observation)
        counter = np.zeros(n, dtype=np.int64) if state is None else state[0].copy()
        if episode_start is not None:
            counter[np.asarray(episode_start, dtype=bool)] = 0
        return counter.copy(), (counter + 1,)


def _env(n_envs: int) -> DummyVecEnv:
    return DummyVecEnv([lambda: Monitor(CountingEnv()) for _ in range(n_envs)])


def test_state_is_carried_within_and_reset_between_episodes() -> None:
    # Every step is right only if the state was passed back every step AND reset at every episode start.
    result = evaluate(StepCounterPolicy(), _env(3), n_episodes=7)
    assert result.n_episodes == 7
    assert result.returns == [5.0] * 7
    assert result.lengths == [5] * 7


def test_a_policy_that_ignores_resets_would_fail() -> None:
    class NoReset(StepCounterPolicy):
        def predict(
            self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False
        ):
            return super().predict(observation, state, None, deterministic)

    result = evaluate(NoReset(), _env(1), n_episodes=3)
    assert result.returns[0] == 5.0
    assert result.returns[1:] == [0.0, 0.0]  # the counter leaked from episode 1 into episodes 2 and 3


def test_episodes_are_spread_over_envs_and_counted_exactly() -> None:
    result = evaluate(StepCounterPolicy(), _env(4), n_episodes=10)
    assert result.n_episodes == 10
    assert result.success_rate == 1.0


def test_success_interval_is_wilson() -> None:
    result = EvalResult(returns=[1.0] * 20, lengths=[1] * 20, successes=[True] * 19 + [False])
    low, high = result.success_ci95 or (0, 0)
    assert result.success_rate == 0.95
    assert 0.763 < low < 0.765 and 0.990 < high < 0.992
    assert EvalResult(returns=[0.0], lengths=[1], successes=[None]).success_ci95 is None


def test_episodes_are_spread_over_envs_and_numbered_round_by_round() -> None:
    # Env i plays (n + i) // n_envs episodes; numbers go round by round; -1 past an env's share.
    assert episode_numbers(10, 4).tolist() == [[0, 4, -1, -1], [1, 5, -1, -1], [2, 6, 8, -1], [3, 7, 9, -1]]
    assert episode_numbers(8, 4)[:, :2].tolist() == [[0, 4], [1, 5], [2, 6], [3, 7]]
    assert episode_numbers(2, 4)[:, 0].tolist() == [-1, -1, 0, 1]
