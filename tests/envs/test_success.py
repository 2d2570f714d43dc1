"""``envs.success:SuccessFromReturn``: ``is_success`` at every episode end, from the episode's return."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest

from envs.success import SuccessFromReturn


class Scripted(gym.Env):
    """Pays ``rewards[t]`` at step t and ends (terminated) after the last one; infos from ``infos``."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    def __init__(self, rewards: list[float], last_info: dict[str, Any] | None = None) -> None:
        self.rewards, self.last_info, self.t = rewards, last_info or {}, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        self.t = 0
        return 0, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        reward, self.t = self.rewards[self.t], self.t + 1
        done = self.t == len(self.rewards)
        return 0, reward, done, False, dict(self.last_info) if done else {}


def infos(env: gym.Env, episodes: int = 2) -> list[dict[str, Any]]:
    seen = []
    for _ in range(episodes):
        env.reset()
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(0)
            done = terminated or truncated
            seen.append(info)
    return seen


@pytest.mark.parametrize(
    ("rewards", "threshold", "success"),
    [
        ([0.0, 0.0, 0.4], 0.0, True),
        ([0.0, 0.0, 0.0], 0.0, False),
        ([0.5, -0.5], 0.0, False),
        ([1, 1], 1.5, True),
    ],
)
def test_success_is_set_at_the_episode_end_from_the_return(
    rewards: list[float], threshold: float, success: bool
) -> None:
    seen = infos(SuccessFromReturn(Scripted(rewards), threshold=threshold))
    ends = [i for i, info in enumerate(seen) if "is_success" in info]
    assert ends == [len(rewards) - 1, 2 * len(rewards) - 1]  # only the last step of each episode
    assert all(seen[i]["is_success"] is success for i in ends)  # the return restarts with each episode


def test_time_limit_truncation_fails_and_the_envs_own_success_is_kept() -> None:
    limited = SuccessFromReturn(gym.wrappers.TimeLimit(Scripted([0.0] * 10), max_episode_steps=3))
    assert infos(limited, 1)[-1]["is_success"] is False
    reported = SuccessFromReturn(Scripted([1.0], last_info={"is_success": False}))
    assert infos(reported, 1)[-1]["is_success"] is False


def test_bad_threshold() -> None:
    with pytest.raises(ValueError, match=r"^threshold=inf is out of range"):
        SuccessFromReturn(Scripted([1.0]), threshold=float("inf"))
    with pytest.raises(ValueError, match=r"^threshold='x' is invalid"):
        SuccessFromReturn(Scripted([1.0]), threshold="x")  # type: ignore[arg-type]
