"""Plain sb3-contrib and fast recurrent models with the same weights and a real rollout, for the tests that
compare FastRecurrentPPO with sb3-contrib's RecurrentPPO (tests/core/test_fast_*.py, tests/algo/)."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv

from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from recurrent_rl.algo.memory import MEMORIES

TOL = 1e-5


class NoVelocity(gym.ObservationWrapper):
    """CartPole without velocities (indices 1 and 3 zeroed)."""

    def observation(self, observation: np.ndarray) -> np.ndarray:
        observation = observation.copy()
        observation[[1, 3]] = 0.0
        return observation


class RandomEnv(gym.Env):
    """Random observations; episodes end at random (p=0.15), so resets land inside rollouts."""

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(int(self.np_random.integers(2**31)))
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        terminated = bool(self.np_random.random() < 0.15)
        return self.observation_space.sample(), float(self.np_random.normal()), terminated, False, {}


IMAGE = spaces.Box(0, 255, (36, 36, 3), np.uint8)
VECTOR = spaces.Box(-1.0, 1.0, (5,), np.float32)


def cartpole_env(n_envs: int = 4) -> DummyVecEnv:
    return DummyVecEnv([lambda: NoVelocity(gym.make("CartPole-v1")) for _ in range(n_envs)])


def random_env(observation_space: spaces.Space, action_space: spaces.Space, n_envs: int = 2) -> DummyVecEnv:
    return DummyVecEnv([lambda: RandomEnv(observation_space, action_space) for _ in range(n_envs)])


SMALL = dict(lstm_hidden_size=16, net_arch=dict(pi=[16], vf=[16]))

# name -> (policy, env factory, policy_kwargs, n_steps)
CASES: dict[str, tuple[str, Any, dict[str, Any], int]] = {
    "critic_lstm": ("MlpLstmPolicy", cartpole_env, dict(SMALL, enable_critic_lstm=True), 32),
    "two_layers": ("MlpLstmPolicy", cartpole_env, dict(SMALL, n_lstm_layers=2), 32),
    "shared_lstm": (
        "MlpLstmPolicy",
        cartpole_env,
        dict(SMALL, shared_lstm=True, enable_critic_lstm=False),
        32,
    ),
    "no_critic_lstm": ("MlpLstmPolicy", cartpole_env, dict(SMALL, enable_critic_lstm=False), 32),
    "box_actions": (
        "MlpLstmPolicy",
        lambda: random_env(VECTOR, spaces.Box(-1.0, 1.0, (2,), np.float32), n_envs=3),
        dict(SMALL, n_lstm_layers=2),
        24,
    ),
    "cnn": (
        "CnnLstmPolicy",
        lambda: random_env(IMAGE, spaces.Discrete(3)),
        dict(SMALL, features_extractor_kwargs=dict(features_dim=32)),
        16,
    ),
    "multi_input": (
        "MultiInputLstmPolicy",
        lambda: random_env(spaces.Dict({"image": IMAGE, "vector": VECTOR}), spaces.MultiDiscrete([2, 3])),
        SMALL,
        16,
    ),
}


def make_pair(case: str, seed: int = 0, **fast_options: Any) -> tuple[RecurrentPPO, FastRecurrentPPO, Any]:
    """Plain and fast models with the same weights, from a short training run of the plain one.

    The plain model learns one rollout, collects a second one and trains on it, so its rollout buffer
    holds real minibatches whose ``old_log_prob`` no longer matches the policy (ratios differ from one).
    Also returns a copy of that second rollout taken before sampling, for the buffer tests.
    ``fast_options``: FastRecurrentPPO's own keyword arguments (``sequence_length``, ``refresh_states``).
    """
    policy, env_fn, policy_kwargs, n_steps = CASES[case]
    kwargs: dict[str, Any] = dict(
        n_steps=n_steps, batch_size=32, n_epochs=2, seed=seed, policy_kwargs=policy_kwargs
    )
    plain = RecurrentPPO(policy, env_fn(), **kwargs)
    fast = FastRecurrentPPO(policy, env_fn(), **kwargs, **fast_options)
    rollout = second_rollout(plain)
    plain.train()
    fast.policy.load_state_dict(plain.policy.state_dict())
    return plain, fast, rollout


def second_rollout(model: Any) -> Any:
    """``model`` learns one rollout and collects a second one; a copy of that rollout (before sampling)."""
    n_steps = model.n_steps
    model.learn(n_steps * model.n_envs)
    _, callback = model._setup_learn(n_steps * model.n_envs, reset_num_timesteps=False)
    model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=n_steps)
    return copy.deepcopy(model.rollout_buffer)


def make_memory_pair(
    case: str, memory: str, seed: int = 0, **fast_options: Any
) -> tuple[FastRecurrentPPO, FastRecurrentPPO, Any]:
    """Two FastRecurrentPPO models with ``memory`` (``policy_kwargs["memory"]``), the same weights, after a
    training step of the first on a real rollout; and a copy of that rollout, as :func:`make_pair`."""
    policy, env_fn, policy_kwargs, n_steps = CASES[case]
    kwargs: dict[str, Any] = dict(
        n_steps=n_steps,
        batch_size=32,
        n_epochs=2,
        seed=seed,
        policy_kwargs={**policy_kwargs, "memory": memory},
    )
    first = FastRecurrentPPO(policy, env_fn(), **kwargs, **fast_options)
    second = FastRecurrentPPO(policy, env_fn(), **kwargs, **fast_options)
    rollout = second_rollout(first)
    first.train()
    second.policy.load_state_dict(first.policy.state_dict())
    return first, second, rollout


def ppo_loss(policy: RecurrentActorCriticPolicy, data: Any, discrete: bool) -> tuple[th.Tensor, ...]:
    """Values, log-probabilities, entropy and the loss exactly as ``RecurrentPPO.train`` computes them."""
    actions = data.actions.long().flatten() if discrete else data.actions
    mask = data.mask > 1e-8
    values, log_prob, entropy = policy.evaluate_actions(
        data.observations, actions, data.lstm_states, data.episode_starts
    )
    values = values.flatten()
    advantages = (data.advantages - data.advantages[mask].mean()) / (data.advantages[mask].std() + 1e-8)
    ratio = th.exp(log_prob - data.old_log_prob)
    clipped = advantages * th.clamp(ratio, 0.8, 1.2)
    policy_loss = -th.mean(th.min(advantages * ratio, clipped)[mask])
    value_loss = th.mean(((data.returns - values) ** 2)[mask])
    entropy_loss = -th.mean(entropy[mask])
    loss = policy_loss + 0.01 * entropy_loss + 0.5 * value_loss
    return values[mask], log_prob[mask], entropy[mask], loss


def clone_as(buffer: Any, cls: type) -> Any:
    """A deep copy of ``buffer`` (filled, not yet sampled) as an instance of ``cls``."""
    clone = cls.__new__(cls)
    clone.__dict__.update(copy.deepcopy(buffer.__dict__))
    return clone


def train_once(model: Any, rollout: Any, n_epochs: int, seed: int = 11) -> None:
    """One ``train()`` of ``model`` on a copy of ``rollout`` (filled, not yet sampled) as its own buffer
    class, from a fresh Adam, at half the schedule, with a clipped value loss too."""
    model.rollout_buffer = clone_as(rollout, type(model.rollout_buffer))
    if isinstance(model, FastRecurrentPPO):
        model.rollout_buffer.sequence_length = model.sequence_length
    model.policy.optimizer = th.optim.Adam(model.policy.parameters(), lr=3e-4, eps=1e-5)
    model.clip_range_vf = lambda _: 0.3
    model._current_progress_remaining = 0.5
    model.n_epochs = n_epochs
    model.set_logger(Logger(folder=None, output_formats=[]))
    np.random.seed(seed)
    model.train()


TRAIN_RECORDS = (
    "train/policy_gradient_loss",
    "train/value_loss",
    "train/entropy_loss",
    "train/clip_fraction",
    "train/approx_kl",
    "train/loss",
)


def assert_same_training(plain: Any, fast: Any) -> None:
    """Both models ended at the same weights (to TOL) and logged the same statistics."""
    for (name, expected), actual in zip(
        plain.policy.named_parameters(), fast.policy.parameters(), strict=True
    ):
        th.testing.assert_close(actual, expected, atol=TOL, rtol=TOL, msg=name)
    for key in TRAIN_RECORDS:
        wanted = plain.logger.name_to_value[key]
        assert fast.logger.name_to_value[key] == pytest.approx(wanted, rel=1e-4, abs=1e-6), key


def count_fallback_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count (in the list's one item) the calls of the memories' per-step fallback (sb3-contrib's
    ``_process_sequence`` for the LSTM) that the fast policy makes from now on (it needs them only for resets
    inside a sequence)."""
    calls = [0]
    for memory_class in MEMORIES.values():
        original = memory_class.per_step

        def counted(self: Any, *args: Any, _original: Any = original) -> Any:
            calls[0] += 1
            return _original(self, *args)

        monkeypatch.setattr(memory_class, "per_step", counted)
    return calls
