"""Shared helpers for the memory-task tests: API checks without warnings, rollouts, hand-written policies."""

from __future__ import annotations

import pickle
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

Policy = Callable[[np.ndarray], int]


def assert_checkers_silent(env_id: str, **kwargs: Any) -> None:
    """Both API checkers pass with no warning at all; a random episode through ``make``'s wrappers too."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id, **kwargs)
        gym_check_env(env.unwrapped)  # unwrapped: make's wrappers make this checker warn
        sb3_check_env(env.unwrapped, warn=True)
        sb3_check_env(gym.make(env_id, **kwargs), warn=True)
        env.action_space.seed(0)
        env.reset(seed=0)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated


def rollout(env: gym.Env, seed: int, actions: Sequence[int]) -> list[tuple[Any, ...]]:
    """Seeded reset, then ``actions`` (resetting without a seed at episode ends)."""
    obs, _ = env.reset(seed=seed)
    record: list[tuple[Any, ...]] = [(obs.copy(),)]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        record.append((obs.copy(), reward, terminated, truncated))
        if terminated or truncated:
            obs, _ = env.reset()
            record.append((obs.copy(),))
    return record


def same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Whether two rollouts are identical."""
    return len(a) == len(b) and all(
        len(x) == len(y) and all(np.array_equal(u, v) for u, v in zip(x, y, strict=True))
        for x, y in zip(a, b, strict=True)
    )


def assert_seeding(env_id: str, actions: Sequence[int], **kwargs: Any) -> None:
    """Same seed and actions give identical rollouts; different seeds give different ones."""
    first = rollout(gym.make(env_id, **kwargs), 7, actions)
    assert same(first, rollout(gym.make(env_id, **kwargs), 7, actions))
    others = [rollout(gym.make(env_id, **kwargs), seed, actions) for seed in range(8, 14)]
    assert not all(same(first, other) for other in others)


def assert_pickle_continues(env_id: str, actions: Sequence[int], split: int, **kwargs: Any) -> None:
    """An env pickled mid-episode continues exactly like the original (same obs, rewards, ends)."""
    env = gym.make(env_id, **kwargs)
    env.reset(seed=3)
    for a in actions[:split]:
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    for a in actions[split:]:
        x, y = env.step(a), clone.step(a)
        np.testing.assert_array_equal(x[0], y[0])
        assert x[1:4] == y[1:4]
        if x[2] or x[3]:
            np.testing.assert_array_equal(env.reset()[0], clone.reset()[0])


def run_episode(
    env: gym.Env, act: Policy, seed: int | None = None, options: dict | None = None
) -> tuple[float, dict]:
    """Play one episode with ``act(obs) -> action``; return the undiscounted return and the final info."""
    obs, info = env.reset(seed=seed, options=options)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, info = env.step(act(obs))
        total += float(reward)
        done = terminated or truncated
    return total, info


def distinct_observations(observations: Sequence[np.ndarray]) -> list[bytes]:
    """Sorted distinct observations, as bytes keys for lookup tables."""
    return sorted({np.asarray(o, dtype=np.float32).tobytes() for o in observations})


class TableMemoryless:
    """A deterministic memoryless policy: a lookup table from observation to action."""

    def __init__(self, table: dict[bytes, int]) -> None:
        self.table = table

    def __call__(self, obs: np.ndarray) -> int:
        return self.table[obs.tobytes()]


# ---- hand-written policies with memory ----


class TMazeMemory:
    """Walk forward remembering the cue bits; at the junction turn as the queried bit says."""

    def __init__(self, n_cues: int) -> None:
        self.n_cues = n_cues
        self.bits = np.zeros(n_cues)

    def __call__(self, obs: np.ndarray) -> int:
        cue = obs[: self.n_cues]
        if np.any(cue != 0):
            self.bits = cue.copy()
        if obs[self.n_cues + 2] != 1:  # not at the junction
            return 0
        query = int(np.argmax(obs[self.n_cues + 3 :])) if self.n_cues > 1 else 0
        return 1 if self.bits[query] > 0 else 2


class RepeatPreviousMemory:
    """Keep the last ``k + 1`` cards; answer the oldest."""

    def __init__(self, k: int) -> None:
        self.cards: deque[int] = deque(maxlen=k + 1)

    def __call__(self, obs: np.ndarray) -> int:
        self.cards.append(int(np.argmax(obs)))
        return self.cards[0]


class CountRecallMemory:
    """One counter per card value."""

    def __init__(self, n_cards: int, max_count: int) -> None:
        self.counts = np.zeros(n_cards, dtype=np.int64)
        self.max_count = max_count

    def __call__(self, obs: np.ndarray) -> int:
        card = int(np.argmax(obs))
        answer = min(int(self.counts[card]), self.max_count)
        self.counts[card] += 1
        return answer


class BanditBelief:
    """Bayes filter on ``P(arm 0 is better)``; pull the arm more likely to be better (ties: arm 0)."""

    def __init__(self, p_good: float, switch_prob: float) -> None:
        self.p, self.s = p_good, switch_prob
        self.b = 0.5

    def __call__(self, obs: np.ndarray) -> int:
        if obs[3] == 1:  # first step
            self.b = 0.5
        else:
            arm, won = int(obs[1] == 1), obs[2] == 1
            evidence_for_0 = (arm == 0) == won
            like0 = self.p if evidence_for_0 else 1.0 - self.p
            b = self.b * like0 / (self.b * like0 + (1.0 - self.b) * (1.0 - like0))
            self.b = b * (1.0 - self.s) + (1.0 - b) * self.s
        return 0 if self.b >= 0.5 else 1


def without_hidden(info: dict[str, Any]) -> dict[str, Any]:
    """``info`` without ``hidden_state`` and ``hidden_state_visible`` (checked in test_hidden_state.py)."""
    return {k: v for k, v in info.items() if k not in ("hidden_state", "hidden_state_visible")}
