"""Every registered RecurrentRL/ environment (and every POMDP wrapper) against the API checkers.

The ids come from ``gymnasium.registry``, not a hard-coded list, so environments added to
``envs/__init__.py`` are covered automatically; one whose module does not exist yet is skipped.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from envs.wrappers import WRAPPERS, apply_wrappers
from tests.helpers.env_ids import ENV_IDS, KNOWN_WARNINGS, WRAPPER_NOTICE, WRAPPER_SPECS, make


@contextmanager
def no_warnings(allowed: tuple[str, ...] = ()) -> Iterator[None]:
    """Fail on any warning whose message contains none of the ``allowed`` substrings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    unexpected = [str(w.message) for w in caught if not any(a in str(w.message) for a in allowed)]
    assert not unexpected, "unexpected warnings:\n" + "\n".join(unexpected)


def assert_same(a: Any, b: Any) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, tuple | list):
        assert isinstance(b, tuple | list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def trajectory(env: gym.Env, seed: int, steps: int = 300) -> list[tuple[Any, ...]]:
    """Seeded reset, then ``steps`` seeded random actions (unseeded resets continue the seeded stream)."""
    env.action_space.seed(seed)
    obs, info = env.reset(seed=seed)
    record: list[tuple[Any, ...]] = [(obs,)]
    for _ in range(steps):
        action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        record.append((action, obs, float(reward), terminated, truncated))
        if terminated or truncated:
            obs, info = env.reset()
            record.append((obs,))
    return record


# ---- every registered environment ----


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_check_env(env_id: str) -> None:
    env = make(env_id)
    with no_warnings(KNOWN_WARNINGS.get(env_id, ())):
        gym_check_env(env.unwrapped)  # unwrapped: make's wrappers would trigger WRAPPER_NOTICE


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_check_env(env_id: str) -> None:
    env = make(env_id)
    with no_warnings(KNOWN_WARNINGS.get(env_id, ())):
        sb3_check_env(env, warn=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory(env_id: str) -> None:
    first, second = trajectory(make(env_id), seed=123), trajectory(make(env_id), seed=123)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert_same(a, b)
    other = trajectory(make(env_id), seed=124)
    try:
        assert_same(first, other)
    except AssertionError:
        return
    pytest.fail("different seeds gave identical trajectories")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_pickle_round_trip(env_id: str) -> None:
    env = make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    clone = pickle.loads(pickle.dumps(env))
    actions = [env.action_space.sample() for _ in range(20)]
    for action in actions:
        a, b = env.step(action), clone.step(action)
        assert_same(a[:4], b[:4])
        if a[2] or a[3]:
            assert_same(env.reset(seed=1), clone.reset(seed=1))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_modes(env_id: str) -> None:
    modes = make(env_id).metadata.get("render_modes", [])
    assert "ansi" in modes and "rgb_array" in modes, f"{env_id} must support ansi and rgb_array, has {modes}"
    text_env = make(env_id, render_mode="ansi")
    text_env.reset(seed=0)
    text = text_env.render()
    assert isinstance(text, str) and text.strip()
    image_env = make(env_id, render_mode="rgb_array")
    image_env.reset(seed=0)
    image_env.step(image_env.action_space.sample())
    image = image_env.render()
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8
    assert image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) > 0


# ---- every wrapper, on CartPole-v1 ----


def _base_warnings() -> tuple[str, ...]:
    """Warnings CartPole-v1 itself raises (its velocity bounds are infinite): not the wrappers' fault."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(gym.make("CartPole-v1").unwrapped, skip_render_check=True)
    return tuple(str(w.message) for w in caught)


def test_wrapper_specs_cover_the_registry() -> None:
    assert set(WRAPPER_SPECS) == set(WRAPPERS)


@pytest.mark.parametrize("name", sorted(WRAPPER_SPECS))
def test_wrapper_passes_both_checkers(name: str) -> None:
    # skip_render_check: CartPole-v1 renders with pygame, which is not a dependency.
    specs = [(name, WRAPPER_SPECS[name])]
    with no_warnings((WRAPPER_NOTICE, *_base_warnings())):
        gym_check_env(apply_wrappers(gym.make("CartPole-v1"), specs), skip_render_check=True)
    with no_warnings():
        sb3_check_env(apply_wrappers(gym.make("CartPole-v1"), specs), warn=True)
    # On top of masked velocities all bounds are finite: then not even CartPole's own warnings remain.
    masked = [("mask_observation", {"indices": [1, 3]}), *specs]
    with no_warnings((WRAPPER_NOTICE,)):
        gym_check_env(apply_wrappers(gym.make("CartPole-v1"), masked), skip_render_check=True)


@pytest.mark.parametrize("name", sorted(WRAPPER_SPECS))
def test_wrapper_same_seed_same_trajectory(name: str) -> None:
    def build() -> gym.Env:
        return apply_wrappers(gym.make("CartPole-v1"), [(name, WRAPPER_SPECS[name])])

    first, second = trajectory(build(), seed=5), trajectory(build(), seed=5)
    for a, b in zip(first, second, strict=True):
        assert_same(a, b)


# ---- SubprocVecEnv ----


def test_subproc_vec_env_smoke() -> None:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    wrapper: Callable[..., gym.Env] = apply_wrappers
    vec_env = make_vec_env(
        "envs:RecurrentRL/CartPoleNoVel-v1",  # "module:" prefix: the worker imports envs, registering the id
        n_envs=2,
        seed=0,
        vec_env_cls=SubprocVecEnv,
        wrapper_class=wrapper,
        wrapper_kwargs={"specs": [("flicker", {"p": 0.5}), ("previous_action_reward", {})]},
    )
    try:
        obs = vec_env.reset()
        assert obs.shape == (2, 4 + 2 + 1)
        for _ in range(50):
            obs, rewards, dones, infos = vec_env.step(
                np.array([vec_env.action_space.sample() for _ in range(2)])
            )
            assert obs.shape == (2, 7) and rewards.shape == (2,) and len(infos) == 2
    finally:
        vec_env.close()
