"""Batched envs (``env.vec_env: batched``) must reproduce DummyVecEnv of single envs step by step, exactly."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

import envs  # noqa: F401  (registers the ids)
from recurrent_rl.config.schema import AlgoConfig, EnvConfig
from recurrent_rl.errors import UserError
from recurrent_rl.vecenv.batched import BatchedVecEnv, EpisodeSums
from recurrent_rl.vecenv.build import build_vec_env

N_ENVS = 6
FLICKER = {"name": "flicker", "kwargs": {"p": 0.3}}
NOISE = {"name": "observation_noise", "kwargs": {"std": 0.2}}
PREVIOUS = {"name": "previous_action_reward", "kwargs": {"reward_bound": 0.5}}

# name -> (env section, steps); every case crosses several episode ends (and time limits where it has one).
CASES: dict[str, tuple[dict[str, Any], int]] = {
    "tmaze": ({"id": "RecurrentRL/TMaze-v0", "kwargs": {"corridor_length": 3}}, 200),
    "tmaze_cues": ({"id": "RecurrentRL/TMaze-v0", "kwargs": {"corridor_length": 2, "n_cues": 3}}, 200),
    "tmaze_wrapped": (
        {
            "id": "RecurrentRL/TMaze-v0",
            "kwargs": {"corridor_length": 2, "bump_penalty": 0.0},
            "wrappers": [{"name": "mask_observation", "kwargs": {"indices": [1]}}, FLICKER, PREVIOUS],
        },
        200,
    ),
    "tmaze_previous_action": (
        {
            "id": "RecurrentRL/TMaze-v0",
            "kwargs": {"corridor_length": 2},
            "wrappers": [{"name": "previous_action_reward", "kwargs": {"reward": False}}],
        },
        200,
    ),
    "cartpole": ({"id": "RecurrentRL/CartPoleNoVel-v1", "max_episode_steps": 25}, 250),
    "cartpole_success": (
        {"id": "RecurrentRL/CartPoleNoVel-v1", "kwargs": {"success_steps": 8, "noise_std": 0.05}},
        250,
    ),
    "cartpole_sutton_barto": (
        {"id": "RecurrentRL/CartPoleNoVel-v1", "kwargs": {"sutton_barto_reward": True}, "wrappers": [NOISE]},
        250,
    ),
    "pendulum": ({"id": "RecurrentRL/PendulumNoVel-v1", "max_episode_steps": 40}, 200),
    "pendulum_wrapped": (
        {
            "id": "RecurrentRL/PendulumNoVel-v1",
            "kwargs": {"noise_std": 0.1, "g": 9.0},
            "max_episode_steps": 30,
            "wrappers": [NOISE, {"name": "previous_action_reward"}],
        },
        200,
    ),
    "repeat_previous": (
        {"id": "RecurrentRL/RepeatPrevious-v0", "kwargs": {"k": 2, "episode_length": 9}},
        150,
    ),
    "count_recall": ({"id": "RecurrentRL/CountRecall-v0", "kwargs": {"episode_length": 12}}, 150),
    "bandit": ({"id": "RecurrentRL/SwitchingBandit-v0", "kwargs": {"episode_length": 20}}, 150),
    "bandit_time_limit": ({"id": "RecurrentRL/SwitchingBandit-v0", "max_episode_steps": 15}, 150),
    "pixel_maze": ({"id": "RecurrentRL/PixelMemoryMaze-v0", "kwargs": {"max_steps": 14}}, 200),
    "pixel_maze_wrapped": (
        {"id": "RecurrentRL/PixelMemoryMaze-v0", "kwargs": {"n_colors": 3}, "wrappers": [NOISE, FLICKER]},
        200,
    ),
    "normalized_stack": (
        {"id": "RecurrentRL/CartPoleNoVel-v1", "normalize": True, "frame_stack": 2, "max_episode_steps": 30},
        200,
    ),
}


def build(section: dict[str, Any], kind: str, n_envs: int = N_ENVS, seed: int = 7) -> VecEnv:
    return build_vec_env(
        EnvConfig(**section), AlgoConfig(), n_envs=n_envs, seed=seed, training=True, vec_env=kind
    )


def innermost(venv: VecEnv) -> VecEnv:
    while hasattr(venv, "venv"):
        venv = venv.venv
    return venv


def random_actions(space: gym.Space, steps: int, seed: int = 0) -> list[np.ndarray]:
    space.seed(seed)
    return [np.stack([space.sample() for _ in range(N_ENVS)]) for _ in range(steps)]


def comparable(info: dict[str, Any]) -> dict[str, Any]:
    """An info without the wall-clock ``episode["t"]`` and with the terminal observation as a list."""
    out = dict(info)
    if "episode" in out:
        out["episode"] = {key: value for key, value in out["episode"].items() if key != "t"}
    if "terminal_observation" in out:
        terminal = out["terminal_observation"]
        out["terminal_observation"] = (terminal.dtype.str, terminal.tolist())
    return out


def assert_same(actual: Any, expected: Any, what: str) -> None:
    assert type(actual) is type(expected), what
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, what
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        assert actual == expected, what


@pytest.mark.parametrize("case", list(CASES))
def test_same_rollouts_as_dummy_vec_env(case: str) -> None:
    section, steps = CASES[case]
    dummy, batched = build(section, "dummy"), build(section, "batched")
    assert isinstance(innermost(dummy), DummyVecEnv) and isinstance(innermost(batched), BatchedVecEnv)
    assert batched.observation_space == dummy.observation_space
    assert batched.action_space == dummy.action_space
    assert_same(batched.reset(), dummy.reset(), "reset")
    ends = limits = 0
    for t, actions in enumerate(random_actions(dummy.action_space, steps)):
        expected, actual = dummy.step(actions), batched.step(actions)
        for name, a, e in zip(("obs", "rewards", "dones"), actual[:3], expected[:3], strict=True):
            assert_same(a, e, f"step {t}: {name}")
        assert [comparable(i) for i in actual[3]] == [comparable(i) for i in expected[3]], f"step {t}: infos"
        reset_infos = [innermost(venv).reset_infos for venv in (batched, dummy)]
        assert reset_infos[0] == reset_infos[1], f"step {t}: reset_infos"
        ends += int(expected[2].sum())
        limits += sum(info["TimeLimit.truncated"] for info in expected[3])
    assert ends >= 2 * N_ENVS, f"only {ends} episode ends"
    if "max_episode_steps" in section or case == "tmaze":
        assert limits > 0, "no time limit was reached"
    if isinstance(dummy, VecNormalize):
        np.testing.assert_array_equal(batched.obs_rms.mean, dummy.obs_rms.mean)


def test_auto_batches_our_envs_and_falls_back() -> None:
    ours = build({"id": "RecurrentRL/TMaze-v0"}, "auto", n_envs=2)
    assert isinstance(ours, BatchedVecEnv)
    assert EnvConfig(id="RecurrentRL/TMaze-v0").vec_env == "auto"  # the default
    assert ours.get_attr("hidden_state_kinds") == [{"cue": "discrete"}] * 2
    assert ours.env_is_wrapped(Monitor) == [True, True]
    other = build({"id": "CartPole-v1", "wrappers": [FLICKER]}, "auto", n_envs=2)
    assert isinstance(other, DummyVecEnv)
    rendered = build_vec_env(
        EnvConfig(id="RecurrentRL/TMaze-v0"),
        AlgoConfig(),
        n_envs=1,
        seed=0,
        training=False,
        render_mode="ansi",
    )
    assert isinstance(rendered, DummyVecEnv)
    for venv in (ours, other, rendered):
        venv.close()


def test_batched_without_a_batched_version_is_a_config_error() -> None:
    with pytest.raises(UserError, match=r"env.vec_env: batched .*CartPoleEnv has no batched version"):
        build({"id": "CartPole-v1"}, "batched", n_envs=2)


@pytest.mark.parametrize("reward", [True, False])
def test_batched_previous_action_reward_encodes_discrete_observations(reward: bool) -> None:
    """Our envs all observe Boxes, so no batched chain reaches this through ``batch``: the batched layer is
    checked directly against the single wrappers on FrozenLake (Discrete(16) observations, one-hot)."""
    from envs.batched.wrappers import BatchedPreviousActionReward
    from envs.wrappers import PreviousActionReward

    singles = [
        PreviousActionReward(gym.make("FrozenLake-v1"), reward_bound=0.5, reward=reward) for _ in range(3)
    ]
    twins = [gym.make("FrozenLake-v1") for _ in range(3)]  # the same envs unwrapped: the raw observations
    for i, (single, twin) in enumerate(zip(singles, twins, strict=True)):
        single.reset(seed=i)
        twin.reset(seed=i)
    batched = BatchedPreviousActionReward(singles)
    assert batched.observation_space == singles[0].observation_space
    for actions in (step[:3] for step in random_actions(gym.spaces.Discrete(4), 30)):
        expected, raw, rewards = [], [], []
        for single, twin, action in zip(singles, twins, actions, strict=True):
            obs, *_ = single.step(int(action))
            twin_obs, twin_reward, terminated, truncated, _ = twin.step(int(action))
            expected.append(obs)
            raw.append(twin_obs)
            rewards.append(twin_reward)
            if terminated or truncated:
                seed = int(action) + 100
                single.reset(seed=seed)
                twin.reset(seed=seed)
        actual = batched.observation(np.array(raw), actions, np.array(rewards, dtype=np.float64))
        assert_same(actual, np.stack(expected), "observations")


def test_invalid_action_raises_the_single_envs_error() -> None:
    venv = build({"id": "RecurrentRL/TMaze-v0"}, "batched", n_envs=2)
    venv.reset()
    with pytest.raises(ValueError, match=r"action=.*5.* is invalid: expected 0, 1 or 2"):
        venv.step(np.array([0, 5]))


def _python312_sum(values: list[float]) -> float:
    """CPython 3.12's ``sum`` of floats (Neumaier compensation), written out."""
    total, compensation = 0.0, 0.0
    for x in values:
        t = total + x
        compensation += (total - t) + x if abs(total) >= abs(x) else (x - t) + total
        total = t
    return total + compensation if compensation and math.isfinite(compensation) else total


@pytest.mark.parametrize("compensated", [False, True])
def test_episode_sums_match_python_sum(compensated: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EpisodeSums, "COMPENSATED", compensated)
    rng = np.random.default_rng(0)
    rewards = rng.choice([1e16, -1e16, 1.0, 0.1, -0.3, 1e-8], size=(300, 4)) * rng.random((300, 4))
    sums = EpisodeSums(4)
    for row in rewards:
        sums.add(row)
    for i in range(4):
        column = [float(x) for x in rewards[:, i]]
        expected = _python312_sum(column) if compensated else float(np.cumsum(column)[-1])  # left to right
        assert sums.pop(i) == (expected, 300)
