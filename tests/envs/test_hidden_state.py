"""``info["hidden_state"]`` / ``info["hidden_state_visible"]``: present everywhere, declared, and right."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import envs
from envs.wrappers import apply_wrappers
from tests.helpers.env_ids import ENV_IDS, WRAPPER_SPECS, make

KINDS = {envs.DISCRETE, envs.CONTINUOUS}


def check_info(info: dict[str, Any], kinds: dict[str, str]) -> dict[str, float]:
    """The hidden state of ``info``: the declared keys in order, finite floats, integers if discrete."""
    hidden, visible = info["hidden_state"], info["hidden_state_visible"]
    assert list(hidden) == list(kinds) and list(visible) == list(kinds)
    for key, value in hidden.items():
        assert type(value) is float and math.isfinite(value), (key, value)
        if kinds[key] == envs.DISCRETE:
            assert value.is_integer(), (key, value)
        assert type(visible[key]) is bool, (key, visible[key])
    return hidden


def episode(
    env: gym.Env, seed: int, actions: Any = None, options: dict | None = None
) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """Observations and infos of one episode (random actions unless ``actions(obs, t)`` is given)."""
    env.action_space.seed(seed)
    obs, info = env.reset(seed=seed, options=options)
    observations, infos = [obs], [info]
    done, t = False, 0
    while not done:
        action = env.action_space.sample() if actions is None else actions(obs, t)
        obs, _, terminated, truncated, info = env.step(action)
        observations.append(obs)
        infos.append(info)
        done, t = terminated or truncated, t + 1
    return observations, infos


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_env_reports_its_declared_hidden_state(env_id: str) -> None:
    env = make(env_id)
    kinds = envs.hidden_state_kinds(env_id)
    assert kinds and set(kinds.values()) <= KINDS
    assert envs.hidden_state_kinds(env) == kinds == env.unwrapped.hidden_state_kinds
    for seed in (0, 1):
        _, infos = episode(env, seed)
        for info in infos:
            check_info(info, kinds)


def test_env_without_hidden_state() -> None:
    assert envs.hidden_state_kinds("CartPole-v1") == {}


@pytest.mark.parametrize("n_cues", [1, 3])
def test_tmaze_cue_is_the_cue_shown(n_cues: int) -> None:
    env = gym.make("RecurrentRL/TMaze-v0", corridor_length=3, n_cues=n_cues)
    kinds = envs.hidden_state_kinds(env)
    expected = ["cue"] if n_cues == 1 else ["cue", "asked_index", *(f"cue_{j}" for j in range(n_cues))]
    assert list(kinds) == expected
    for seed in range(8):
        observations, infos = episode(env, seed, actions=lambda obs, t: 0 if t < 3 else 1)
        query = 0 if n_cues == 1 else int(np.argmax(observations[-1][n_cues + 3 :]))
        first = observations[0]
        for t, info in enumerate(infos):
            hidden, visible = check_info(info, kinds), info["hidden_state_visible"]
            assert hidden["cue"] == first[query]
            assert visible["cue"] == (t == 0)
            if n_cues > 1:
                assert hidden["asked_index"] == query
                assert visible["asked_index"] == (t >= 3)  # at the junction, where the query is shown
                for j in range(n_cues):
                    assert hidden[f"cue_{j}"] == first[j] and visible[f"cue_{j}"] == (t == 0)
        assert infos[-1]["is_success"] == (hidden["cue"] > 0)


def test_cartpole_velocities_are_the_state() -> None:
    env = gym.make("RecurrentRL/CartPoleNoVel-v1")
    obs, info = env.reset(seed=3)
    env.action_space.seed(3)
    done = False
    while not done:
        state = env.unwrapped.state
        assert info["hidden_state"] == {"cart_velocity": state[1], "pole_angular_velocity": state[3]}
        assert obs[1] == obs[3] == 0.0 and not any(info["hidden_state_visible"].values())
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        done = terminated or truncated


def test_pendulum_angular_velocity_is_the_state() -> None:
    env = gym.make("RecurrentRL/PendulumNoVel-v1")
    _, info = env.reset(seed=3)
    env.action_space.seed(3)
    for _ in range(50):
        assert info["hidden_state"] == {"angular_velocity": env.unwrapped.state[1]}
        _, _, _, _, info = env.step(env.action_space.sample())


def test_repeat_previous_target_is_the_card_k_steps_back() -> None:
    k = 3
    env = gym.make("RecurrentRL/RepeatPrevious-v0", k=k, episode_length=20)
    observations, infos = episode(env, 5)
    cards = [int(np.argmax(obs)) for obs in observations]
    targets = [info["hidden_state"]["target_card"] for info in infos]
    assert targets == [-1.0] * k + [float(c) for c in cards[:-k]]


def test_count_recall_count_is_the_earlier_appearances() -> None:
    env = gym.make("RecurrentRL/CountRecall-v0", n_cards=3, episode_length=30, max_count=4)
    observations, infos = episode(env, 2)
    cards = [int(np.argmax(obs)) for obs in observations]
    counts = [min(cards[:t].count(card), 4) for t, card in enumerate(cards)]
    assert [info["hidden_state"]["current_count"] for info in infos] == counts
    assert max(counts) == 4  # the clipping was exercised


def test_bandit_better_arm_is_the_regime() -> None:
    env = gym.make("RecurrentRL/SwitchingBandit-v0", switch_prob=0.2)
    _, info = env.reset(seed=1)
    arms = []
    for _ in range(100):
        assert info["hidden_state"]["better_arm"] == env.unwrapped._better
        arms.append(info["hidden_state"]["better_arm"])
        _, _, _, _, info = env.step(0)
    assert set(arms) == {0.0, 1.0}


def test_pixel_maze_key_colour_and_its_visibility() -> None:
    env = gym.make("RecurrentRL/PixelMemoryMaze-v0", corridor_length=4)
    for seed in range(4):
        _, info = env.reset(seed=seed)
        key, radius = env.unwrapped.key_color, env.unwrapped.radius
        visible = [info["hidden_state_visible"]["key_color"]]
        for _ in range(5):  # north, up the corridor into the hall
            _, _, _, _, info = env.step(0)
            assert info["hidden_state"]["key_color"] == key
            visible.append(info["hidden_state_visible"]["key_color"])
        # The key cell is one below the start: in view for the first `radius - 1` moves up.
        assert visible == [t + 1 <= radius for t in range(6)]


@pytest.mark.parametrize("name", sorted(WRAPPER_SPECS))
def test_wrappers_pass_the_hidden_state_through(name: str) -> None:
    plain = gym.make("RecurrentRL/CartPoleNoVel-v1")
    wrapped = apply_wrappers(gym.make("RecurrentRL/CartPoleNoVel-v1"), [(name, WRAPPER_SPECS[name])])
    assert envs.hidden_state_kinds(wrapped) == envs.hidden_state_kinds(plain)
    _, plain_infos = episode(plain, 4)
    _, wrapped_infos = episode(wrapped, 4)
    keys = ("hidden_state", "hidden_state_visible")
    assert [[i[k] for k in keys] for i in wrapped_infos] == [[i[k] for k in keys] for i in plain_infos]
