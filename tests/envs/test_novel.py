"""CartPoleNoVel / PendulumNoVel: the zoo's velocity masks, noise, is_success, rendering, argument checks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers RecurrentRL/ ids)
from envs.novel import CartPoleNoVelEnv, PendulumNoVelEnv

# (our id, base id, indices rl-baselines3-zoo's MaskVelocityWrapper zeroes)
ZOO_CASES = [
    ("RecurrentRL/CartPoleNoVel-v1", "CartPole-v1", [1, 3]),
    ("RecurrentRL/PendulumNoVel-v1", "Pendulum-v1", [2]),
]


def _rollout(env: gym.Env, seed: int, actions: list) -> list[np.ndarray]:
    obs, _ = env.reset(seed=seed)
    observations = [obs]
    for action in actions:
        obs, _, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        if terminated or truncated:
            break
    return observations


@pytest.mark.parametrize(("env_id", "base_id", "hidden"), ZOO_CASES)
def test_masks_exactly_the_zoo_indices(env_id: str, base_id: str, hidden: list[int]) -> None:
    env, base = gym.make(env_id), gym.make(base_id)
    assert env.observation_space.shape == base.observation_space.shape
    assert env.action_space == base.action_space
    visible = [i for i in range(base.observation_space.shape[0]) if i not in hidden]
    base.action_space.seed(3)
    actions = [base.action_space.sample() for _ in range(60)]
    for seed in (0, 1, 2):
        ours, theirs = _rollout(env, seed, actions), _rollout(base, seed, actions)
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs, strict=True):
            assert o.dtype == t.dtype == np.float32
            np.testing.assert_array_equal(o[visible], t[visible])
            assert np.all(o[hidden] == 0.0)
            assert o in env.observation_space


@pytest.mark.parametrize(("env_id", "base_id", "hidden"), ZOO_CASES)
def test_rewards_and_dynamics_unchanged(env_id: str, base_id: str, hidden: list[int]) -> None:
    env, base = gym.make(env_id), gym.make(base_id)
    base.action_space.seed(5)
    env.reset(seed=7)
    base.reset(seed=7)
    for _ in range(100):
        action = base.action_space.sample()
        _, r1, term1, trunc1, _ = env.step(action)
        _, r2, term2, trunc2, _ = base.step(action)
        assert (r1, term1, trunc1) == (r2, term2, trunc2)
        if term1 or trunc1:
            break


@pytest.mark.parametrize(("env_id", "base_id", "hidden"), ZOO_CASES)
def test_noise_is_reproducible_and_only_on_visible_entries(
    env_id: str, base_id: str, hidden: list[int]
) -> None:
    noisy, clean = gym.make(env_id, noise_std=0.05), gym.make(env_id)
    noisy.action_space.seed(0)
    actions = [noisy.action_space.sample() for _ in range(30)]
    first = _rollout(noisy, 11, actions)
    second = _rollout(gym.make(env_id, noise_std=0.05), 11, actions)
    reference = _rollout(clean, 11, actions)
    for a, b, c in zip(first, second, reference, strict=True):
        np.testing.assert_array_equal(a, b)
        assert np.all(a[hidden] == 0.0)
        assert a in noisy.observation_space
        assert not np.array_equal(a, c)
    other_seed = _rollout(gym.make(env_id, noise_std=0.05), 12, actions)
    assert not np.array_equal(first[0], other_seed[0])


def _full_state_action(env: gym.Env) -> int:
    x, x_dot, theta, theta_dot = env.unwrapped.state  # cheating controller, only to reach the time limit
    return int(theta + 0.3 * theta_dot + 0.01 * x + 0.1 * x_dot > 0)


def test_cartpole_success_at_time_limit() -> None:
    env = gym.make("RecurrentRL/CartPoleNoVel-v1")
    env.reset(seed=0)
    ret, steps = 0.0, 0
    while True:
        _, reward, terminated, truncated, info = env.step(_full_state_action(env))
        ret += float(reward)
        steps += 1
        if steps < 500:
            assert "is_success" not in info
        if terminated or truncated:
            break
    assert (steps, ret, terminated, truncated) == (500, 500.0, False, True)
    assert info["is_success"] is True


def test_cartpole_failure_when_pole_falls() -> None:
    env = gym.make("RecurrentRL/CartPoleNoVel-v1")
    env.reset(seed=0)
    for _ in range(200):
        _, _, terminated, truncated, info = env.step(1)  # always push right: falls quickly
        if terminated:
            break
        assert "is_success" not in info
    assert terminated and not truncated
    assert info["is_success"] is False


def test_cartpole_success_steps_is_reported_from_then_on() -> None:
    env = gym.make("RecurrentRL/CartPoleNoVel-v1", success_steps=5, max_episode_steps=20)
    env.reset(seed=0)
    for step in range(1, 21):
        _, _, terminated, truncated, info = env.step(_full_state_action(env))
        assert info.get("is_success") is (True if step >= 5 else None)
    assert truncated and not terminated


def test_pendulum_reports_no_success() -> None:
    env = gym.make("RecurrentRL/PendulumNoVel-v1")
    env.reset(seed=0)
    for _ in range(200):
        _, _, terminated, truncated, info = env.step(np.zeros(1, dtype=np.float32))
        assert "is_success" not in info
    assert truncated and not terminated


@pytest.mark.parametrize("env_id", [case[0] for case in ZOO_CASES])
def test_render_modes(env_id: str) -> None:
    text_env = gym.make(env_id, render_mode="ansi")
    text_env.reset(seed=0)
    text = text_env.render()
    assert isinstance(text, str) and "hidden" in text
    image_env = gym.make(env_id, render_mode="rgb_array")
    image_env.reset(seed=0)
    image_env.step(image_env.action_space.sample())
    image = image_env.render()
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8
    assert image.ndim == 3 and image.shape[2] == 3 and 0 < image.shape[0] <= 200
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 2  # something was drawn


@pytest.mark.parametrize(
    ("cls", "kwargs", "argument"),
    [
        (CartPoleNoVelEnv, {"noise_std": -0.1}, "noise_std"),
        (CartPoleNoVelEnv, {"noise_std": "big"}, "noise_std"),
        (CartPoleNoVelEnv, {"noise_std": float("nan")}, "noise_std"),
        (CartPoleNoVelEnv, {"success_steps": 0}, "success_steps"),
        (CartPoleNoVelEnv, {"success_steps": 2.5}, "success_steps"),
        (CartPoleNoVelEnv, {"sutton_barto_reward": "yes"}, "sutton_barto_reward"),
        (CartPoleNoVelEnv, {"render_mode": "human"}, "render_mode"),
        (PendulumNoVelEnv, {"noise_std": -1}, "noise_std"),
        (PendulumNoVelEnv, {"g": -9.8}, "g"),
        (PendulumNoVelEnv, {"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_arguments_raise(cls: type, kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}=") as excinfo:
        cls(**kwargs)
    message = str(excinfo.value)
    assert repr(next(iter(kwargs.values())))[:4] in message
    assert "expected" in message
