"""TMaze: API checks, seeding, pickling, and proof that the task needs memory."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

from envs.tmaze import TMazeEnv
from tests.helpers.env_policies import (
    TableMemoryless,
    TMazeMemory,
    assert_checkers_silent,
    assert_pickle_continues,
    assert_seeding,
    distinct_observations,
    run_episode,
    without_hidden,
)

ENV_ID = "RecurrentRL/TMaze-v0"
KNOBS = [
    {},
    {"corridor_length": 1},
    {"corridor_length": 25, "n_cues": 4, "render_mode": "rgb_array"},
    {"max_steps": 200, "bump_penalty": 0.0, "render_mode": "ansi"},
]


@pytest.mark.parametrize("kwargs", KNOBS)
def test_checkers_pass_without_warnings(kwargs: dict) -> None:
    assert_checkers_silent(ENV_ID, **kwargs)


def test_seeding_is_deterministic() -> None:
    actions = [0] * 10 + [1] + [0] * 10 + [2] + [1, 0, 2] * 12
    assert_seeding(ENV_ID, actions)
    assert_seeding(ENV_ID, actions, n_cues=5)


def test_pickle_mid_episode_continues_identically() -> None:
    assert_pickle_continues(
        ENV_ID, [0, 1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2], split=4, n_cues=3
    )


def test_subproc_vec_env() -> None:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import SubprocVecEnv

    vec = make_vec_env(
        f"envs:{ENV_ID}", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv, env_kwargs={"corridor_length": 2}
    )
    try:
        obs = vec.reset()
        assert isinstance(obs, np.ndarray) and obs.shape == (2, 4)
        for t, action in enumerate([0, 0, 1, 0, 0, 2]):
            obs, reward, done, infos = vec.step(np.array([action, action]))
            turned = t in (2, 5)
            assert done.tolist() == [turned, turned]
            assert set(np.abs(reward).tolist()) == ({1.0} if turned else {0.0})
            if turned:
                assert all(isinstance(info["is_success"], bool) for info in infos)
    finally:
        vec.close()


def test_observation_layout_and_episode() -> None:
    env = TMazeEnv(corridor_length=3, n_cues=2)
    obs, _ = env.reset(seed=0, options={"cues": [1, 0], "query": 1})
    np.testing.assert_array_equal(obs, [1, -1, 1, 0, 0, 0, 0])
    obs, reward, *_ = env.step(1)  # bump at the start: the cue is gone
    np.testing.assert_array_equal(obs, [0, 0, 1, 0, 0, 0, 0])
    assert reward == -0.1
    for expected in ([0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 1]):
        obs, reward, terminated, truncated, info = env.step(0)
        np.testing.assert_array_equal(obs, expected)
        assert (reward, terminated, truncated, without_hidden(info)) == (0.0, False, False, {})
    obs, reward, terminated, truncated, info = env.step(0)  # forward at the junction bumps
    assert (reward, terminated) == (-0.1, False)
    obs, reward, terminated, truncated, info = env.step(2)  # queried bit 1 is 0: down
    assert (reward, terminated, truncated, without_hidden(info)) == (1.0, True, False, {"is_success": True})
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)


def test_bumping_forever_is_truncated() -> None:
    env = TMazeEnv(corridor_length=4)
    env.reset(seed=0)
    for t in range(1, env.max_steps + 1):
        _, reward, terminated, truncated, info = env.step(1)
        assert reward == -0.1 and not terminated
        assert truncated == (t == 2 * 4 + 10)
    assert without_hidden(info) == {"is_success": False}


def test_returned_observation_is_a_copy() -> None:
    env = TMazeEnv()
    first, _ = env.reset(seed=0)
    kept = first.copy()
    env.step(0)
    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize(
    "kwargs", [{}, {"corridor_length": 30, "n_cues": 8}, {"corridor_length": 1, "n_cues": 64}]
)
def test_memory_policy_is_optimal(kwargs: dict) -> None:
    env = gym.make(ENV_ID, **kwargs)
    n_cues = kwargs.get("n_cues", 1)
    results = [run_episode(env, TMazeMemory(n_cues), seed=s) for s in range(200)]
    assert all(ret == 1.0 and info["is_success"] for ret, info in results)


@pytest.mark.parametrize(("corridor_length", "n_cues"), [(3, 1), (1, 2)])
def test_no_memoryless_policy_beats_the_bound(corridor_length: int, n_cues: int) -> None:
    """Every deterministic map from the distinct observations to actions: return <= 0, success <= 50%."""
    env = TMazeEnv(corridor_length=corridor_length, n_cues=n_cues)
    configs = [
        {"cues": list(bits), "query": q}
        for bits in itertools.product((0, 1), repeat=n_cues)
        for q in range(n_cues)
    ]
    rng = np.random.default_rng(0)
    seen = []
    for options in configs * 20:  # random play visits every observation
        obs, _ = env.reset(seed=0, options=options)
        seen.append(obs)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(int(rng.integers(3)))
            seen.append(obs)
            done = terminated or truncated
    keys = distinct_observations(seen)
    # cue patterns at the start + start without cue + corridor (if any) + one junction view per query
    assert len(keys) == 2**n_cues + 1 + (corridor_length > 1) + n_cues

    best_return, best_success = -float("inf"), 0.0
    for actions in itertools.product(range(3), repeat=len(keys)):
        policy = TableMemoryless(dict(zip(keys, actions, strict=True)))
        results = [run_episode(env, policy, seed=0, options=options) for options in configs]
        best_return = max(best_return, float(np.mean([r for r, _ in results])))
        best_success = max(best_success, float(np.mean([info["is_success"] for _, info in results])))
    assert best_return == pytest.approx(0.0)  # attained: walk forward and always turn the same way
    assert best_success == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"corridor_length": 0}, "corridor_length=0 is out of range: expected an integer in [1, 1000]"),
        ({"corridor_length": 1001}, "corridor_length=1001 is out of range: expected an integer in [1, 1000]"),
        ({"corridor_length": 2.5}, "corridor_length=2.5 is invalid: expected an integer in [1, 1000]"),
        ({"n_cues": 0}, "n_cues=0 is out of range: expected an integer in [1, 64]"),
        ({"n_cues": 65}, "n_cues=65 is out of range: expected an integer in [1, 64]"),
        ({"corridor_length": 10, "max_steps": 10}, "max_steps=10 is out of range: expected an integer >= 11"),
        ({"bump_penalty": -0.1}, "bump_penalty=-0.1 is out of range: expected a number in [0.0, 1.0]"),
        (
            {"render_mode": "human"},
            "render_mode='human' is invalid: expected one of [None, 'ansi', 'rgb_array']",
        ),
    ],
)
def test_bad_arguments_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        TMazeEnv(**kwargs)
    assert str(excinfo.value) == message


def test_bad_reset_options_raise() -> None:
    env = TMazeEnv(n_cues=2)
    with pytest.raises(ValueError, match="options\\['cues'\\]"):
        env.reset(options={"cues": [1, 2]})
    with pytest.raises(ValueError, match="options\\['query'\\]=2 is out of range"):
        env.reset(options={"query": 2})


def test_render() -> None:
    text_env = TMazeEnv(corridor_length=5, render_mode="ansi")
    text_env.reset(seed=0, options={"cues": [1]})
    text = text_env.render()
    assert isinstance(text, str) and text.splitlines()[2] == "@....J"
    image_env = TMazeEnv(corridor_length=5, n_cues=3, render_mode="rgb_array")
    image_env.reset(seed=0)
    for action in [0, 0, 0, 0, 0, 1]:
        image_env.step(action)
    image = image_env.render()
    assert (
        isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    )
    long_env = TMazeEnv(corridor_length=1000, render_mode="rgb_array")
    long_env.reset(seed=0)
    long_image = long_env.render()
    assert isinstance(long_image, np.ndarray) and long_image.shape == (6, 2002, 3)
    assert TMazeEnv().render() is None
