"""Small policies and envs for the deploy tests: built like the project's vector envs, untrained."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper, VecFrameStack, VecNormalize
from torch import nn

from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from recurrent_rl.deploy import (
    ObsNormalization,
    PolicyModule,
    compare,
    describe,
    export_onnx,
    make_session,
    play,
    record_inputs,
    state_output,
)

N_ENVS = 2


def small_cnn() -> type[BaseFeaturesExtractor]:
    """The project's SmallCNN (wherever the ongoing restructuring put it), else an equivalent."""
    for module in ("recurrent_rl.algo.extractors",):
        try:
            return __import__(module, fromlist=["SmallCNN"]).SmallCNN  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue

    class TinyCNN(BaseFeaturesExtractor):
        def __init__(self, observation_space: gym.Space, features_dim: int = 32) -> None:
            super().__init__(observation_space, features_dim)
            channels = observation_space.shape[0]
            self.cnn = nn.Sequential(nn.Conv2d(channels, 8, 4, stride=4), nn.ReLU(), nn.Flatten())
            with torch.no_grad():
                n = self.cnn(torch.zeros((1, *observation_space.shape))).shape[1]
            self.linear = nn.Sequential(nn.Linear(n, features_dim), nn.ReLU())

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return self.linear(self.cnn(obs))

    return TinyCNN


class DictObs(gym.ObservationWrapper):
    """``{"obs": the observation, "flag": Discrete(2) or Box(1,)}``: flag is 1 when the obs's sum > 0."""

    def __init__(self, env: gym.Env, box_flag: bool = False) -> None:
        super().__init__(env)
        self.box_flag = box_flag
        flag = gym.spaces.Box(0.0, 1.0, (1,), np.float32) if box_flag else gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Dict({"obs": env.observation_space, "flag": flag})

    def observation(self, observation: Any) -> dict[str, Any]:
        bit = int(np.sum(observation) > 0)
        flag = np.array([bit], dtype=np.float32) if self.box_flag else bit
        return {"obs": observation, "flag": flag}


class Tap(VecEnvWrapper):
    """Keeps the latest raw observations of the env below (what the exported module gets)."""

    def reset(self) -> Any:
        self.last = self.venv.reset()
        return self.last

    def step_wait(self) -> Any:
        obs, rewards, dones, infos = self.venv.step_wait()
        self.last = obs
        return obs, rewards, dones, infos


@dataclass
class Setup:
    """An SB3 model on a wrapped VecEnv, and the module built from it."""

    model: Any
    venv: VecEnv
    tap: Tap
    module: PolicyModule
    make_env: Callable[[], gym.Env]

    def raw_env(self, n_envs: int = N_ENVS) -> VecEnv:
        return DummyVecEnv([self.make_env] * n_envs)


def build(
    env_id: str,
    policy: str,
    *,
    recurrent: bool = True,
    normalize: bool = False,
    frame_stack: int | None = None,
    dict_obs: str | None = None,
    policy_kwargs: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
) -> Setup:
    """A model on ``Tap -> [VecNormalize] -> [VecFrameStack]`` and its PolicyModule (statistics warmed up)."""

    def make_env() -> gym.Env:
        env = gym.make(env_id, **(env_kwargs or {}))
        return DictObs(env, box_flag=dict_obs == "box") if dict_obs else env

    tap = Tap(DummyVecEnv([make_env] * N_ENVS))
    venv: VecEnv = tap
    venv.seed(seed)
    if normalize:
        keys = ["obs"] if dict_obs else None
        venv = norm = VecNormalize(venv, norm_reward=False, norm_obs_keys=keys, clip_obs=5.0)
        norm.reset()
        rng = np.random.default_rng(seed)
        for _ in range(50):  # non-trivial statistics
            norm.step(_random(norm, rng))
        norm.training = False
    if frame_stack:
        venv = VecFrameStack(venv, frame_stack)
    fast = "memory" in (policy_kwargs or {})  # the GRU (policy_kwargs memory) needs FastRecurrentPPO
    algo = (FastRecurrentPPO if fast else RecurrentPPO) if recurrent else PPO
    model = algo(
        policy, venv, policy_kwargs=policy_kwargs or {}, seed=seed, n_steps=16, batch_size=16, device="cpu"
    )
    normalization: Any = None
    if normalize:
        rms, clip, eps = norm.obs_rms, norm.clip_obs, norm.epsilon
        if dict_obs:
            normalization = {"obs": ObsNormalization(rms["obs"].mean, rms["obs"].var, clip, eps)}  # type: ignore[index]
        else:
            normalization = ObsNormalization(rms.mean, rms.var, clip, eps)  # type: ignore[union-attr]
    module = PolicyModule(model.policy, tap.observation_space, normalization, frame_stack)
    return Setup(model, model.get_env(), tap, module, make_env)


def _random(venv: VecEnv, rng: np.random.Generator) -> np.ndarray:
    space = venv.action_space
    space.seed(int(rng.integers(2**31)))
    return np.stack([space.sample() for _ in range(venv.num_envs)])


def compare_with_sb3(setup: Setup, n_steps: int = 120) -> int:
    """Play ``model.predict`` (deterministic, state carried) in the wrapped env and the module on the raw
    observations side by side; assert equal actions (and LSTM states); return the number of episode ends."""
    venv, module = setup.venv, setup.module
    obs = venv.reset()
    starts = np.ones(venv.num_envs, dtype=bool)
    sb3_state, state = None, module.initial_state(venv.num_envs)
    ends = 0
    for _ in range(n_steps):
        action, sb3_state = setup.model.predict(
            obs, state=sb3_state, episode_start=starts, deterministic=True
        )
        feeds = {**module.obs_feeds(setup.tap.last), **state}
        if "episode_start" in module.input_names:
            feeds["episode_start"] = starts.astype(np.float32)
        out = module.run(feeds)
        np.testing.assert_array_equal(out["action"], action)
        if module.recurrent:
            assert sb3_state is not None
            np.testing.assert_allclose(out["h_out"], sb3_state[0], atol=1e-5)
        state = {name: out[state_output(name)] for name in state}
        obs, _, dones, _ = venv.step(action)
        starts = dones.astype(bool)
        ends += int(dones.sum())
    return ends


def export_and_check(setup: Any, n_episodes: int = 3, exporter: Any = None) -> None:
    """Export ``setup``'s module; onnxruntime acts as the module on recorded episodes and plays the same."""
    data = export_onnx(setup.module, exporter=exporter)
    session = make_session(data)
    names = [arg.name for arg in session.get_inputs()]
    assert names == setup.module.input_names
    assert [arg.name for arg in session.get_outputs()] == setup.module.output_names
    steps, torch_play = record_inputs(setup.module, setup.raw_env(), n_episodes, seed=3)
    result = compare(setup.module, session, steps)
    assert result.n_steps == len(steps) > 0
    assert result.action_mismatches == 0, result
    assert result.max_abs_logit_diff <= 1e-4, result
    assert result.ok()
    onnx_play = play(session, setup.raw_env(), n_episodes, seed=3)
    assert onnx_play.returns == pytest.approx(torch_play.returns, abs=1e-6)
    assert onnx_play.lengths == torch_play.lengths
    json.dumps(describe(setup.module))  # the sidecar is JSON-ready
