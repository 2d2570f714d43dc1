"""SwitchingBandit: API checks, seeding, pickling; belief tracking beats every memoryless policy."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

from envs.bandit import SwitchingBanditEnv, memoryless_expected_return
from tests.helpers.env_policies import (
    BanditBelief,
    assert_checkers_silent,
    assert_pickle_continues,
    assert_seeding,
    run_episode,
    without_hidden,
)

ENV_ID = "RecurrentRL/SwitchingBandit-v0"
ACTIONS = [0, 1, 1, 0, 1, 0, 0, 0, 1, 1] * 25
OPTIMAL = 74.06  # docstring figure: Bayes-optimal expected return (simulated)
MEMORYLESS = 67.11  # docstring figure: best memoryless (exact, win-stay lose-shift)
WSLS = np.array([0.5, 0.0, 1.0, 1.0, 0.0])  # P(arm 0 | first, (0,0), (0,1), (1,0), (1,1))


class StochasticMemoryless:
    """A memoryless policy given as P(arm 0 | observation), in ``memoryless_expected_return``'s layout."""

    def __init__(self, probs: np.ndarray, seed: int) -> None:
        self.probs = probs
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: np.ndarray) -> int:
        column = 0 if obs[3] == 1 else 1 + 2 * int(obs[1] == 1) + int(obs[2] == 1)
        return 0 if self.rng.random() < self.probs[column] else 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"p_good": 0.7, "switch_prob": 0.05, "episode_length": 1, "render_mode": "ansi"},
        {"p_good": 1.0, "switch_prob": 0.0, "render_mode": "rgb_array"},
    ],
)
def test_checkers_pass_without_warnings(kwargs: dict) -> None:
    assert_checkers_silent(ENV_ID, **kwargs)


def test_seeding_and_pickling() -> None:
    assert_seeding(ENV_ID, ACTIONS)
    assert_pickle_continues(ENV_ID, ACTIONS, split=37)


def test_observation_layout() -> None:
    env = SwitchingBanditEnv(p_good=1.0, switch_prob=0.0, episode_length=3)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [0, 0, 0, 1])
    better = env._better
    obs, reward, terminated, _, info = env.step(better)
    np.testing.assert_array_equal(obs, [better == 0, better == 1, 1, 0])
    assert (reward, terminated, without_hidden(info)) == (1.0, False, {})
    obs, reward, _, _, _ = env.step(1 - better)
    np.testing.assert_array_equal(obs, [better == 1, better == 0, 0, 0])
    assert reward == 0.0
    obs, reward, terminated, truncated, info = env.step(better)
    assert (terminated, truncated, without_hidden(info)) == (True, False, {"better_arm_fraction": 2 / 3})
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)


def test_belief_policy_reaches_the_stated_optimum() -> None:
    env = gym.make(ENV_ID)
    results = [run_episode(env, BanditBelief(0.8, 0.02), seed=s) for s in range(1500)]
    returns = np.array([r for r, _ in results])
    assert abs(returns.mean() - OPTIMAL) < 4 * returns.std() / np.sqrt(len(returns))  # ~0.6
    assert np.mean([info["better_arm_fraction"] for _, info in results]) == pytest.approx(0.90, abs=0.01)
    assert returns.mean() > MEMORYLESS + 5  # memory is worth a clear margin


def test_no_memoryless_policy_beats_the_bound() -> None:
    deterministic = np.array(list(itertools.product((0.0, 1.0), repeat=5)))
    values = memoryless_expected_return(deterministic)
    assert values.max() == pytest.approx(MEMORYLESS, abs=0.005)
    np.testing.assert_array_equal(deterministic[values.argmax()][1:], WSLS[1:])
    # stochastic memoryless policies on a grid (first-step column is irrelevant by symmetry)
    grid = np.linspace(0.0, 1.0, 6)
    stochastic = np.array([(0.5, *p) for p in itertools.product(grid, repeat=4)])
    assert memoryless_expected_return(stochastic).max() <= values.max() + 1e-9
    # simple references
    assert memoryless_expected_return(np.ones(5))[0] == pytest.approx(50.0)  # always arm 0
    assert memoryless_expected_return(np.full(5, 0.5))[0] == pytest.approx(50.0)  # coin flips


@pytest.mark.parametrize("probs", [WSLS, np.array([0.5, 0.2, 0.9, 0.6, 0.3])])
def test_exact_memoryless_value_matches_the_env(probs: np.ndarray) -> None:
    env = SwitchingBanditEnv()
    returns = np.array([run_episode(env, StochasticMemoryless(probs, s), seed=s)[0] for s in range(1000)])
    exact = memoryless_expected_return(probs)[0]
    assert abs(returns.mean() - exact) < 4 * returns.std() / np.sqrt(len(returns))


def test_other_knobs_change_the_figures_as_documented() -> None:
    assert memoryless_expected_return(WSLS, switch_prob=0.05)[0] == pytest.approx(66.04, abs=0.01)
    assert memoryless_expected_return(WSLS, p_good=1.0, switch_prob=0.0)[0] == pytest.approx(99.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p_good": 0.5}, "p_good=0.5 is out of range: expected a number in (0.5, 1.0]"),
        ({"p_good": 1.2}, "p_good=1.2 is out of range: expected a number in (0.5, 1.0]"),
        ({"switch_prob": -0.1}, "switch_prob=-0.1 is out of range: expected a number in [0.0, 1.0]"),
        ({"switch_prob": 1.5}, "switch_prob=1.5 is out of range: expected a number in [0.0, 1.0]"),
        ({"episode_length": 0}, "episode_length=0 is out of range: expected an integer in [1, 10000]"),
        ({"render_mode": "human"}, "render_mode='human' is invalid"),
    ],
)
def test_bad_arguments_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        SwitchingBanditEnv(**kwargs)
    assert str(excinfo.value).startswith(message)


def test_render() -> None:
    text_env = SwitchingBanditEnv(render_mode="ansi")
    text_env.reset(seed=0)
    text_env.step(1)
    assert isinstance(text_env.render(), str)
    image_env = SwitchingBanditEnv(render_mode="rgb_array")
    image_env.reset(seed=0)
    for action in (None, 0, 1):
        if action is not None:
            image_env.step(action)
        image = image_env.render()
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8
        assert image.ndim == 3 and image.shape[2] == 3
    assert SwitchingBanditEnv().render() is None
