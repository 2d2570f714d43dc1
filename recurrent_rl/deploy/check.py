"""Check an exported policy: onnxruntime against PyTorch on recorded episodes, then onnxruntime alone.

Both runtimes carry their own state from step to step (``h``/``c``/frame stacks, reset by ``episode_start``),
so errors that would accumulate over an episode show up. The env given to :func:`record_inputs` and
:func:`play` must yield raw observations: the module normalises and stacks them itself. A VecEnv built with
VecNormalize / VecFrameStack / VecTransposeImage is unwrapped down to the raw env (:func:`raw_vec_env`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import onnxruntime as ort
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecFrameStack, VecNormalize
from stable_baselines3.common.vec_env.base_vec_env import VecEnvWrapper
from stable_baselines3.common.vec_env.vec_transpose import VecTransposeImage

from recurrent_rl.deploy.module import PolicyModule, state_output
from recurrent_rl.deploy.runtime import OrtPolicy
from recurrent_rl.evaluation.episodes import Act, EvalResult, play_episodes

__all__ = ["CheckResult", "PlayResult", "compare", "play", "raw_vec_env", "record_inputs"]

Feeds = dict[str, np.ndarray]
_BUILT_IN = (VecNormalize, VecFrameStack, VecTransposeImage)
PlayResult = EvalResult  # per-episode returns, lengths and successes, as evaluation records them


@dataclass
class CheckResult:
    """How far onnxruntime is from PyTorch over ``n_steps`` recorded steps (state carried by each).

    ``action_mismatches`` counts (step, env) pairs whose greedy actions differ: exactly for integer actions,
    by more than ``action_atol`` for Box actions (which are the clipped mean, i.e. float results).
    """

    n_steps: int
    action_mismatches: int
    max_abs_action_diff: float
    max_abs_logit_diff: float
    max_abs_state_diff: float

    def ok(self, atol: float = 1e-4) -> bool:
        """Same greedy actions everywhere and logits within ``atol``."""
        return self.action_mismatches == 0 and self.max_abs_logit_diff <= atol


def raw_vec_env(env: VecEnv | gym.Env) -> VecEnv:
    """``env`` as a VecEnv of raw observations: VecNormalize, VecFrameStack and VecTransposeImage removed."""
    venv: Any = env if isinstance(env, VecEnv) else DummyVecEnv([lambda: env])
    while isinstance(venv, _BUILT_IN):
        venv = venv.venv
    inner = venv
    while isinstance(inner, VecEnvWrapper):
        if isinstance(inner, _BUILT_IN):
            raise ValueError(f"{type(inner).__name__} sits below {type(venv).__name__}: pass the raw env")
        inner = inner.venv
    return venv


def _episodes(env: VecEnv | gym.Env, n_episodes: int, act: Act, seed: int | None) -> PlayResult:
    """Play ``n_episodes`` on the raw env as evaluation does (same episodes, same order)."""
    venv = raw_vec_env(env)
    if seed is not None:
        venv.seed(seed)
    return play_episodes(venv, n_episodes, act)


def record_inputs(
    module: PolicyModule, env: VecEnv | gym.Env, n_episodes: int, seed: int | None = 0
) -> tuple[list[Feeds], PlayResult]:
    """Play ``module`` (PyTorch, greedy); record each step's non-state inputs (``obs``, ``episode_start``)."""
    n_envs = raw_vec_env(env).num_envs
    state = module.initial_state(n_envs)
    steps: list[Feeds] = []

    def act(obs: Any, starts: np.ndarray) -> np.ndarray:
        feeds = module.obs_feeds(obs)
        if "episode_start" in module.input_names:
            feeds["episode_start"] = starts.astype(np.float32)
        steps.append({name: np.array(value) for name, value in feeds.items()})
        outputs = module.run({**feeds, **state})
        state.update({name: outputs[state_output(name)] for name in state})
        return outputs["action"]

    return steps, _episodes(env, n_episodes, act, seed)


def compare(
    module: PolicyModule,
    session: ort.InferenceSession,
    steps: Sequence[Mapping[str, np.ndarray]],
    action_atol: float = 1e-4,
) -> CheckResult:
    """Feed the recorded ``steps`` to PyTorch and onnxruntime, each carrying its own state; compare."""
    names = [arg.name for arg in session.get_outputs()]
    torch_state: Feeds = {}
    ort_state: Feeds = {}
    mismatches, action_diff, logit_diff, state_diff = 0, 0.0, 0.0, 0.0
    for step in steps:
        feeds = {name: np.asarray(value) for name, value in step.items()}
        if not torch_state:
            batch = len(next(iter(feeds.values())))
            torch_state = module.initial_state(batch)
            ort_state = {name: value.copy() for name, value in torch_state.items()}
        want = module.run({**feeds, **torch_state})
        got = dict(zip(names, session.run(names, {**feeds, **ort_state}), strict=True))
        diff = np.abs(want["action"].astype(np.float64) - got["action"])
        tolerance = action_atol if want["action"].dtype.kind == "f" else 0.0
        mismatches += int(np.any(diff > tolerance, axis=tuple(range(1, diff.ndim))).sum())
        action_diff = max(action_diff, float(diff.max()))
        logit_diff = max(logit_diff, float(np.max(np.abs(want["logits"] - got["logits"]))))
        for name in torch_state:
            out = state_output(name)
            state_diff = max(state_diff, float(np.max(np.abs(want[out].astype(float) - got[out]))))
            torch_state[name], ort_state[name] = want[out], got[out]
    return CheckResult(len(steps), mismatches, action_diff, logit_diff, state_diff)


def play(
    session: ort.InferenceSession, env: VecEnv | gym.Env, n_episodes: int, seed: int | None = 0
) -> PlayResult:
    """Play ``n_episodes`` with onnxruntime alone (state carried, zeroed at episode starts)."""
    runner = OrtPolicy(session, batch=raw_vec_env(env).num_envs)
    keys = [name.partition(".")[2] for name in runner.obs_names]

    def act(obs: Any, starts: np.ndarray) -> np.ndarray:
        return runner.step({key: obs[key] for key in keys} if keys[0] else obs, starts)

    return _episodes(env, n_episodes, act, seed)
