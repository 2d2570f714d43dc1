"""Run a policy for N episodes, carrying the LSTM state across steps and resetting it at episode starts."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from recurrent_rl.artifacts.records import EvalRecord


class Predictor(Protocol):
    """What evaluation needs: SB3's ``predict`` (an algorithm or a policy)."""

    def predict(
        self,
        observation: Any,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]: ...


@dataclass
class EvalResult:
    """Per-episode returns, lengths and successes (``None`` where the env defines no success)."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[bool | None] = field(default_factory=list)

    @property
    def n_episodes(self) -> int:
        return len(self.returns)

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std_return(self) -> float:
        return float(np.std(self.returns))

    @property
    def mean_length(self) -> float:
        return float(np.mean(self.lengths))

    @property
    def success_rate(self) -> float | None:
        known = [s for s in self.successes if s is not None]
        return float(np.mean(known)) if known else None

    @property
    def success_ci95(self) -> tuple[float, float] | None:
        """Wilson score interval for the success rate."""
        known = [s for s in self.successes if s is not None]
        if not known:
            return None
        n, p, z = len(known), float(np.mean(known)), 1.959964
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def add(self, info: dict[str, Any], total: float, length: int, require_monitor: bool = False) -> None:
        """Add the episode that ended with ``info``: the Monitor's return and length, else these."""
        episode = info.get("episode")
        if episode is None and require_monitor:
            raise RuntimeError("evaluation env is not wrapped in a Monitor")
        self.returns.append(float(total if episode is None else episode["r"]))
        self.lengths.append(int(length if episode is None else episode["l"]))
        success = info.get("is_success")
        self.successes.append(None if success is None else bool(success))

    def record(self, timesteps: int | None = None) -> EvalRecord:
        """These episodes as the run records store them (see :mod:`recurrent_rl.artifacts.records`)."""
        return EvalRecord(
            timesteps=timesteps,
            mean_return=self.mean_return,
            std_return=self.std_return,
            success_rate=self.success_rate,
            success_ci95=self.success_ci95,
            n_episodes=self.n_episodes,
            mean_length=self.mean_length,
        )


Act = Callable[[Any, np.ndarray], np.ndarray]
"""``act(observations, episode_starts) -> actions``: one step of a policy that carries its own state."""


@dataclass
class Step:
    """One step of every env in :func:`episode_steps`.

    ``episodes[i]`` is the number of the episode env ``i`` plays (-1 once it has played its share: its
    step is not part of the episodes asked for).
    """

    observations: Any
    episode_starts: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    infos: list[dict[str, Any]]
    episodes: np.ndarray


def episode_numbers(n_episodes: int, n_envs: int) -> np.ndarray:
    """``numbers[i, k]``: the number of the ``k``-th episode of env ``i``, -1 past its share.

    Env ``i`` plays ``(n_episodes + i) // n_envs`` episodes. They are numbered round by round (every env's
    first episode, then every env's second one, ...), so with ``n_episodes`` a multiple of ``n_envs``
    the ``k``-th episode of env ``i`` is number ``k * n_envs + i``. The last column is all -1.
    """
    shares = (n_episodes + np.arange(n_envs)) // n_envs
    rounds = np.arange(int(shares.max(initial=0)) + 1)
    plays = rounds[None, :] < shares[:, None]
    rank = np.cumsum(plays.T).reshape(len(rounds), n_envs).T - 1
    return np.where(plays, rank, -1)


def episode_steps(
    env: VecEnv, n_episodes: int, act: Act, on_reset: Callable[[], None] | None = None
) -> Iterator[Step]:
    """Reset ``env`` and step it with ``act`` until its envs have played ``n_episodes`` episodes.

    The one episode loop of evaluation, explain and the export checks. ``episode_starts`` is true on the
    first step of every episode, so a recurrent ``act`` resets that env's state; the episodes are spread
    over the envs by :func:`episode_numbers`, so they and their order depend only on ``n_episodes``,
    ``n_envs`` and the seed. ``on_reset`` is called after the reset (later episodes start inside
    ``env.step``'s auto-reset).
    """
    n_envs = env.num_envs
    numbers, counts = episode_numbers(n_episodes, n_envs), np.zeros(n_envs, dtype=int)
    observations = env.reset()
    if on_reset is not None:
        on_reset()
    episode_starts = np.ones(n_envs, dtype=bool)
    episodes = numbers[:, 0]
    while (episodes >= 0).any():
        actions = act(observations, episode_starts)
        next_observations, rewards, dones, infos = env.step(actions)
        yield Step(observations, episode_starts, actions, rewards, dones, infos, episodes)
        counts += dones & (episodes >= 0)
        observations, episode_starts = next_observations, dones.astype(bool)
        episodes = numbers[np.arange(n_envs), counts]


def play_episodes(
    env: VecEnv,
    n_episodes: int,
    act: Act,
    on_step: Callable[[], None] | None = None,
    require_monitor: bool = False,
) -> EvalResult:
    """Play ``n_episodes`` episodes (:func:`episode_steps`) with actions from ``act``; collect their results.

    Returns and lengths come from the Monitor inside each env (raw rewards) where there is one, else from the
    rewards ``env`` returns (``require_monitor``: a missing Monitor is an error). ``on_step`` is called
    after the reset and after every step (to record frames).
    """
    totals, lengths = np.zeros(env.num_envs), np.zeros(env.num_envs, dtype=int)
    result = EvalResult()
    for step in episode_steps(env, n_episodes, act, on_reset=on_step):
        if on_step is not None:
            on_step()
        totals += step.rewards
        lengths += 1
        for i in np.flatnonzero(step.dones):
            if step.episodes[i] >= 0:
                result.add(step.infos[i], totals[i], lengths[i], require_monitor)
            totals[i], lengths[i] = 0.0, 0
    return result


def evaluate(
    model: Predictor,
    env: VecEnv,
    n_episodes: int,
    deterministic: bool = True,
    on_step: Callable[[], None] | None = None,
) -> EvalResult:
    """Play ``n_episodes`` episodes of ``model`` spread evenly over the envs (:func:`play_episodes`).

    The recurrent state returned by ``predict`` is passed back on the next step, and ``episode_start`` is
    true on the first step of every episode so the policy zeroes that env's state: no memory leaks from one
    episode into the next. ``env`` must wrap each env in a Monitor: its rewards may be normalised.
    """
    state: tuple[np.ndarray, ...] | None = None

    def act(observations: Any, episode_starts: np.ndarray) -> np.ndarray:
        nonlocal state
        actions, state = model.predict(
            observations, state=state, episode_start=episode_starts, deterministic=deterministic
        )
        return actions

    return play_episodes(env, n_episodes, act, on_step, require_monitor=True)
