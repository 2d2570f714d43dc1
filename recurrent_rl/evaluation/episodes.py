"""Run a policy for N episodes, carrying the LSTM state across steps and resetting it at episode starts."""

from __future__ import annotations

import math
from collections.abc import Callable
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


def play_episodes(
    env: VecEnv,
    n_episodes: int,
    act: Act,
    on_step: Callable[[], None] | None = None,
    require_monitor: bool = False,
) -> EvalResult:
    """Play ``n_episodes`` episodes spread evenly over the envs of ``env``, actions from ``act``.

    Env ``i`` plays ``(n_episodes + i) // n_envs`` episodes, so the episodes and their order depend only on
    ``n_episodes``, ``n_envs`` and the seed. ``episode_starts`` is true on the first step of every episode.
    Returns and lengths come from the Monitor inside each env (raw rewards) where there is one, else from the
    rewards ``env`` returns (``require_monitor``: a missing Monitor is an error).
    """
    n_envs = env.num_envs
    targets = np.array([(n_episodes + i) // n_envs for i in range(n_envs)], dtype=int)
    counts, totals, lengths = np.zeros(n_envs, dtype=int), np.zeros(n_envs), np.zeros(n_envs, dtype=int)
    result = EvalResult()
    observations = env.reset()
    if on_step is not None:
        on_step()  # the first frame of the first episode (later episodes start inside step's auto-reset)
    episode_starts = np.ones(n_envs, dtype=bool)
    while (counts < targets).any():
        observations, rewards, dones, infos = env.step(act(observations, episode_starts))
        if on_step is not None:
            on_step()
        totals += rewards
        lengths += 1
        for i in np.flatnonzero(dones):
            if counts[i] < targets[i]:
                episode = infos[i].get("episode")
                if episode is None and require_monitor:
                    raise RuntimeError("evaluation env is not wrapped in a Monitor")
                result.returns.append(float(totals[i] if episode is None else episode["r"]))
                result.lengths.append(int(lengths[i] if episode is None else episode["l"]))
                success = infos[i].get("is_success")
                result.successes.append(None if success is None else bool(success))
                counts[i] += 1
            totals[i], lengths[i] = 0.0, 0
        episode_starts = dones.astype(bool)
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
