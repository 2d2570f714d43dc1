"""Short seeded FastRecurrentPPO trainings whose final LSTM-policy parameters were recorded before the memory
interface existed (SHA-256 of every tensor's bytes, ``tests/algo/data/lstm_reference.json``): the LSTM path
must reproduce them bit for bit.

Bit-for-bit equality only holds on the platform that recorded them (same torch build and CPU kernels), so the
file also stores the torch version and CPU capability, and the test skips elsewhere. Regenerate (only when
the LSTM maths is meant to change) with ``python -m tests.helpers.lstm_reference``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv

import envs  # noqa: F401  (registers RecurrentRL/TMaze-v0)
from recurrent_rl.algo.build import add_forget_bias
from recurrent_rl.algo.extractors import SmallCNN
from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from tests.helpers.fast_models import random_env

FIXTURE = Path(__file__).resolve().parents[1] / "algo" / "data" / "lstm_reference.json"
SMALL_IMAGE = spaces.Box(0, 255, (8, 8, 3), np.uint8)
VECTOR = spaces.Box(-1.0, 1.0, (5,), np.float32)


def tmaze_env() -> DummyVecEnv:
    return DummyVecEnv([lambda: gym.make("RecurrentRL/TMaze-v0", corridor_length=5) for _ in range(2)])


TINY = dict(lstm_hidden_size=8, net_arch=dict(pi=[8], vf=[8]))
# name -> (policy, env factory, policy_kwargs, FastRecurrentPPO options, forget bias)
CASES: dict[str, tuple[str, Any, dict[str, Any], dict[str, Any], float]] = {
    "tmaze_mlp": ("MlpLstmPolicy", tmaze_env, dict(TINY, enable_critic_lstm=True), {}, 1.0),
    "tmaze_options": (
        "MlpLstmPolicy",
        tmaze_env,
        dict(TINY, n_lstm_layers=2, enable_critic_lstm=False),
        dict(sequence_length=8, refresh_states=True),
        0.0,
    ),
    "cnn": (
        "CnnLstmPolicy",
        lambda: random_env(SMALL_IMAGE, spaces.Box(-1.0, 1.0, (2,), np.float32)),
        dict(
            TINY,
            shared_lstm=True,
            enable_critic_lstm=False,
            features_extractor_class=SmallCNN,
            features_extractor_kwargs=dict(features_dim=16),
        ),
        {},
        0.0,
    ),
    "dict": (
        "MultiInputLstmPolicy",
        lambda: random_env(
            spaces.Dict({"vector": VECTOR, "flag": spaces.Discrete(3)}), spaces.MultiDiscrete([2, 3])
        ),
        TINY,
        dict(sequence_length=8),
        2.0,
    ),
}


def train_case(name: str) -> dict[str, np.ndarray]:
    """The final parameters (by name) of a 4-rollout seeded FastRecurrentPPO training of case ``name``."""
    policy, env_fn, policy_kwargs, options, forget_bias = CASES[name]
    th.manual_seed(0)
    model = FastRecurrentPPO(
        policy,
        env_fn(),
        n_steps=32,
        batch_size=32,
        n_epochs=2,
        seed=0,
        policy_kwargs=policy_kwargs,
        **options,
    )
    if forget_bias:
        add_forget_bias(model.policy, forget_bias)
    model.learn(4 * 32 * model.n_envs)
    return {key: value.detach().cpu().numpy().copy() for key, value in model.policy.state_dict().items()}


def platform() -> dict[str, str]:
    """What bit-for-bit equality depends on besides the code."""
    return {
        "torch": th.__version__,
        "cpu_capability": str(th.backends.cpu.get_cpu_capability()),
        "stable_baselines3": stable_baselines3.__version__,
        "numpy": np.__version__,
    }


def digests(parameters: dict[str, np.ndarray]) -> dict[str, str]:
    """SHA-256 of each tensor's dtype, shape and bytes: equal digests mean ``torch.equal`` tensors."""
    return {
        key: hashlib.sha256(f"{value.dtype}{value.shape}".encode() + value.tobytes()).hexdigest()
        for key, value in parameters.items()
    }


def record() -> None:
    data = {"platform": platform(), "cases": {case: digests(train_case(case)) for case in CASES}}
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    record()
