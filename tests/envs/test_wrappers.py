"""POMDP wrappers: behaviour, spaces, reproducibility, argument errors and the YAML-facing registry."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

from envs.wrappers import (
    WRAPPERS,
    Flicker,
    MaskObservation,
    ObservationNoise,
    PreviousActionReward,
    apply_wrappers,
)


def cartpole() -> gym.Env:
    return gym.make("CartPole-v1")


def rollout(env: gym.Env, seed: int, steps: int = 50, action_seed: int = 0) -> tuple[list, list]:
    env.action_space.seed(action_seed)
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            obs, _ = env.reset()
            observations.append(obs)
    return observations, rewards


# ---- mask_observation ----


def test_mask_zeroes_indices_and_keeps_the_rest() -> None:
    masked, base = MaskObservation(cartpole(), [1, 3]), cartpole()
    assert masked.observation_space.shape == (4,)
    base_low = base.observation_space.low
    np.testing.assert_array_equal(masked.observation_space.low, [base_low[0], -1, base_low[2], -1])
    np.testing.assert_array_equal(masked.observation_space.high, -masked.observation_space.low)
    ours, _ = rollout(masked, seed=3)
    theirs, _ = rollout(base, seed=3)
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(o[[0, 2]], t[[0, 2]])
        assert o[1] == 0.0 and o[3] == 0.0
        assert o in masked.observation_space


def test_mask_single_index_and_bounds_include_zero() -> None:
    env = gym.make("Pendulum-v1")
    masked = MaskObservation(env, 0)
    assert masked.observation_space.low[0] == -1 and masked.observation_space.high[0] == 1
    obs, _ = masked.reset(seed=0)
    assert obs[0] == 0.0 and obs in masked.observation_space


@pytest.mark.parametrize("indices", [[4], [-1], [], [0, 9], ["1"], [1.0], [True], "1", None])
def test_mask_bad_indices(indices: object) -> None:
    with pytest.raises(ValueError, match=r"^indices=.*expected a non-empty list of integers in \[0, 3\]"):
        MaskObservation(cartpole(), indices)  # type: ignore[arg-type]


def test_mask_needs_box() -> None:
    with pytest.raises(ValueError, match="mask_observation needs a Box observation space"):
        MaskObservation(gym.make("FrozenLake-v1"), [0])


# ---- flicker ----


def test_flicker_probabilities() -> None:
    never, _ = rollout(Flicker(cartpole(), p=0.0), seed=1, steps=200)
    assert not any(np.all(o == 0) for o in never)
    always, _ = rollout(Flicker(cartpole(), p=1.0), seed=1, steps=200)
    assert all(np.all(o == 0) for o in always)
    half, _ = rollout(Flicker(cartpole(), p=0.5), seed=1, steps=2000)
    frac = np.mean([np.all(o == 0) for o in half])
    assert 0.45 < frac < 0.55


def test_flicker_reproducible_and_does_not_touch_dynamics() -> None:
    a_obs, a_rew = rollout(Flicker(cartpole(), p=0.5), seed=7, steps=300)
    b_obs, b_rew = rollout(Flicker(cartpole(), p=0.5), seed=7, steps=300)
    for a, b in zip(a_obs, b_obs, strict=True):
        np.testing.assert_array_equal(a, b)
    c_obs, _ = rollout(Flicker(cartpole(), p=0.5), seed=8, steps=300)
    assert [np.all(o == 0) for o in a_obs] != [np.all(o == 0) for o in c_obs]
    base_obs, base_rew = rollout(cartpole(), seed=7, steps=300)
    assert a_rew == base_rew
    for a, base in zip(a_obs, base_obs, strict=True):
        assert np.all(a == 0) or np.array_equal(a, base)


@pytest.mark.parametrize("p", [-0.1, 1.5, "half", float("nan")])
def test_flicker_bad_p(p: object) -> None:
    with pytest.raises(ValueError, match=r"^p=.*expected a number in \[0.0, 1.0\]"):
        Flicker(cartpole(), p=p)  # type: ignore[arg-type]


# ---- observation_noise ----


def test_noise_reproducible_bounded_and_zero_std_is_identity() -> None:
    env = gym.make("Pendulum-v1")
    a, _ = rollout(ObservationNoise(env, std=0.5), seed=2)
    b, _ = rollout(ObservationNoise(gym.make("Pendulum-v1"), std=0.5), seed=2)
    clean, _ = rollout(gym.make("Pendulum-v1"), seed=2)
    for x, y, c in zip(a, b, clean, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x in env.observation_space and x.dtype == np.float32
        assert not np.array_equal(x, c)
    same, _ = rollout(ObservationNoise(gym.make("Pendulum-v1"), std=0.0), seed=2)
    for x, c in zip(same, clean, strict=True):
        np.testing.assert_array_equal(x, c)


def test_noise_on_integer_images_stays_uint8() -> None:
    import envs  # noqa: F401

    env = ObservationNoise(gym.make("RecurrentRL/PixelMemoryMaze-v0"), std=20.0)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.uint8 and obs in env.observation_space


@pytest.mark.parametrize("std", [-1.0, float("inf"), "x"])
def test_noise_bad_std(std: object) -> None:
    with pytest.raises(ValueError, match=r"^std="):
        ObservationNoise(cartpole(), std=std)  # type: ignore[arg-type]


# ---- previous_action_reward ----


def test_previous_action_reward_discrete() -> None:
    env = PreviousActionReward(cartpole())
    assert env.observation_space.shape == (4 + 2 + 1,)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs[4:], [0, 0, 0])
    obs, reward, *_ = env.step(1)
    np.testing.assert_array_equal(obs[4:], [0, 1, reward])
    obs, reward, *_ = env.step(0)
    np.testing.assert_array_equal(obs[4:], [1, 0, reward])
    assert obs in env.observation_space


def test_previous_action_reward_box_and_bound() -> None:
    env = PreviousActionReward(gym.make("Pendulum-v1"), reward_bound=5.0)
    assert env.observation_space.shape == (3 + 1 + 1,)
    np.testing.assert_array_equal(env.observation_space.high[3:], [2.0, 5.0])
    env.reset(seed=0)
    obs, reward, *_ = env.step(np.array([3.0], dtype=np.float32))  # clipped to the action bound
    assert obs[3] == 2.0 and obs[4] == max(float(reward), -5.0)
    assert obs in env.observation_space


def test_previous_action_reward_one_hot_discrete_observations() -> None:
    """FrozenLake observes Discrete(16): one-hot, as SB3 preprocesses it; then action one-hot and reward."""
    env = PreviousActionReward(gym.make("FrozenLake-v1", is_slippery=False))
    assert env.observation_space.shape == (16 + 4 + 1,) and env.observation_space.dtype == np.float32
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, np.eye(16)[0].tolist() + [0, 0, 0, 0, 0])
    obs, reward, *_ = env.step(2)  # right: to cell 1
    np.testing.assert_array_equal(obs, np.eye(16)[1].tolist() + [0, 0, 1, 0, reward])
    assert obs in env.observation_space


def test_previous_action_reward_multidiscrete_observations_without_reward() -> None:
    """MultiDiscrete([3, 2]) observations (start 1): concatenated one-hots; ``reward: false`` drops it."""
    from gymnasium.wrappers import TransformObservation

    space = gym.spaces.MultiDiscrete([3, 2], start=[1, 1])
    base = TransformObservation(gym.make("CartPole-v1"), lambda o: np.array([3, 1]), space)
    env = PreviousActionReward(base, reward=False)
    assert env.observation_space.shape == (3 + 2 + 2,)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [0, 0, 1, 1, 0, 0, 0])
    obs, *_ = env.step(1)
    np.testing.assert_array_equal(obs, [0, 0, 1, 1, 0, 0, 1])
    assert obs in env.observation_space


def test_previous_action_reward_rejects_non_vector_observations() -> None:
    import envs  # noqa: F401

    with pytest.raises(ValueError, match="needs a 1-D Box observation space"):
        PreviousActionReward(gym.make("RecurrentRL/PixelMemoryMaze-v0"))
    with pytest.raises(ValueError, match="needs a Box, Discrete, MultiDiscrete or MultiBinary observation"):
        PreviousActionReward(gym.make("Blackjack-v1"))  # a Tuple
    with pytest.raises(ValueError, match=r"^reward=1 is invalid"):
        PreviousActionReward(cartpole(), reward=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^reward_bound=0"):
        PreviousActionReward(cartpole(), reward_bound=0)


# ---- registry / apply_wrappers ----


def test_registry_names() -> None:
    assert {
        "mask_observation": MaskObservation,
        "flicker": Flicker,
        "observation_noise": ObservationNoise,
        "previous_action_reward": PreviousActionReward,
    } == WRAPPERS


def test_apply_wrappers_in_order() -> None:
    env = apply_wrappers(
        cartpole(),
        [
            ("mask_observation", {"indices": [1, 3]}),
            ("flicker", {"p": 0.0}),
            ("previous_action_reward", None),
        ],
    )
    assert isinstance(env, PreviousActionReward)
    assert isinstance(env.env, Flicker) and isinstance(env.env.env, MaskObservation)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (7,) and obs[1] == 0.0 and obs[3] == 0.0
    base = cartpole()
    assert apply_wrappers(base, []) is base


def test_apply_wrappers_unknown_name() -> None:
    with pytest.raises(ValueError) as excinfo:
        apply_wrappers(cartpole(), [("flickr", {"p": 0.5})])
    assert str(excinfo.value) == (
        "unknown wrapper 'flickr'; valid: "
        "flicker, mask_observation, observation_noise, previous_action_reward"
    )


def test_apply_wrappers_bad_arguments() -> None:
    with pytest.raises(ValueError) as excinfo:
        apply_wrappers(cartpole(), [("flicker", {"q": 0.5})])
    assert str(excinfo.value) == "flicker: unexpected argument 'q'; valid: p"
    with pytest.raises(ValueError) as excinfo:
        apply_wrappers(cartpole(), [("mask_observation", {})])
    assert str(excinfo.value) == "mask_observation: missing argument 'indices'; valid: indices"
    with pytest.raises(ValueError, match=r"^p=2"):
        apply_wrappers(cartpole(), [("flicker", {"p": 2})])
    with pytest.raises(ValueError, match="expected \\(name, arguments\\)"):
        apply_wrappers(cartpole(), ["flicker"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "spec",
    [
        ("mask_observation", {"indices": [1, 3]}),
        ("flicker", {"p": 0.5}),
        ("observation_noise", {"std": 0.1}),
        ("previous_action_reward", {}),
    ],
)
def test_wrapped_env_pickles_and_continues_identically(spec: tuple) -> None:
    env = apply_wrappers(cartpole(), [spec])
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(5):
        env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    for action in [0, 1, 1, 0, 1]:
        a = env.step(action)
        b = clone.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]
