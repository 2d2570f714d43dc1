"""Play deterministic episodes and record every step, with the actor memory's gates recomputed.

The gates come from the memory's own weights (:meth:`~recurrent_rl.algo.memory.base.Memory.recompute`: LSTM
i, f, g, o, c, h; GRU r, z, n, h) and the action from the recomputed ``h`` exactly as
``policy.predict(obs, state, episode_start, deterministic=True)`` computes it; without a clamp every step is
checked against ``predict`` (actions equal, states to 1e-4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper, VecNormalize

from recurrent_rl.algo.memory.base import reset
from recurrent_rl.evaluation.episodes import Step, episode_steps
from recurrent_rl.explain.actor import actor_memory, deterministic_actions, recurrent_policy
from recurrent_rl.explain.trace_record import ROWS, Trace

EnvSource = VecEnv | gym.Env[Any, Any] | Callable[[], VecEnv | gym.Env[Any, Any]]


@dataclass
class Clamp:
    """Force ``cells`` of the memory state (LSTM: the cell state ``c``; GRU: ``h``) of layer ``layer`` to zero
    while information is held.

    With ``key`` the clamp is on from the step after ``info["hidden_state_visible"][key]`` was True
    (at steps where it is False again); with ``key=None`` from the episode's second step on.
    """

    cells: np.ndarray
    key: str | None = None
    layer: int = -1


def as_vec_env(env: EnvSource) -> VecEnv:
    """``env`` as a VecEnv: a VecEnv as is, a gym env (or a function returning one) in a DummyVecEnv."""
    made = env() if callable(env) and not isinstance(env, VecEnv | gym.Env) else env
    if isinstance(made, VecEnv):
        return made
    return DummyVecEnv([lambda: made])


def _layers(vec_env: VecEnv) -> list[VecEnv]:
    layers = [vec_env]
    while isinstance(layers[-1], VecEnvWrapper):
        layers.append(layers[-1].venv)
    return layers


def _flat(obs: Any, n_envs: int) -> np.ndarray:
    if isinstance(obs, dict):
        return np.concatenate([np.asarray(obs[k]).reshape(n_envs, -1) for k in sorted(obs)], axis=1)
    return np.asarray(obs).reshape(n_envs, -1)


@contextmanager
def _frozen_statistics(vec_env: VecEnv) -> Iterator[list[VecNormalize]]:
    """Stop the VecNormalize layers of ``vec_env`` updating their statistics; yield them."""
    normalizers = [layer for layer in _layers(vec_env) if isinstance(layer, VecNormalize)]
    training = [norm.training for norm in normalizers]
    for norm in normalizers:
        norm.training = False
    try:
        yield normalizers
    finally:
        for norm, flag in zip(normalizers, training, strict=True):
            norm.training = flag


def _verify(
    policy: RecurrentActorCriticPolicy,
    obs: Any,
    state: tuple[np.ndarray, np.ndarray],
    starts: np.ndarray,
    actions: np.ndarray,
    new_state: tuple[np.ndarray, np.ndarray],
) -> None:
    """``predict`` from ``state`` (sb3-contrib's pair) gives ``actions`` and ``new_state`` (to 1e-4)."""
    expected, reference = policy.predict(obs, state, starts, deterministic=True)
    assert reference is not None
    same = (
        np.allclose(expected, actions, atol=1e-5)
        if actions.dtype.kind == "f"
        else np.array_equal(expected, actions)
    )
    error = max(float(np.abs(want - got).max()) for want, got in zip(reference, new_state, strict=True))
    if not same or error > 1e-4:
        raise RuntimeError(
            f"recomputed memory disagrees with policy.predict (state error {error:.2e}, "
            f"actions equal: {same})"
        )


class _ClampMask:
    """Per step, which cells of the memory state a :class:`Clamp` zeroes in each env (1 keeps, 0 zeroes)."""

    def __init__(self, clamp: Clamp, n_envs: int, n_cells: int, device: th.device) -> None:
        self.clamp, self.shape, self.device = clamp, (n_envs, n_cells), device
        self.cells = th.as_tensor(np.asarray(clamp.cells), device=device)
        self.seen = np.zeros(n_envs, dtype=bool)  # the key was visible earlier in this episode

    def __call__(self, infos: list[dict[str, Any]], episode_starts: np.ndarray) -> th.Tensor:
        key = self.clamp.key
        visible = np.array([bool(info.get("hidden_state_visible", {}).get(key, False)) for info in infos])
        self.seen &= ~episode_starts
        held = self.seen & ~visible if key is not None else ~episode_starts
        self.seen |= visible
        mask = th.ones(self.shape, device=self.device)
        rows = th.as_tensor(np.flatnonzero(held), device=self.device)
        mask[rows.unsqueeze(1), self.cells.unsqueeze(0)] = 0.0
        return mask


class _RecomputedActor:
    """The policy's deterministic actions from the actor memory recomputed from its weights.

    The state is carried per env, as sb3-contrib's ``(h, c)`` pair (``c`` zero for a GRU), and zeroed at
    ``episode_starts``; the gates of the last step are kept in ``gates``. Without a clamp mask every step is
    checked against ``predict``.
    """

    def __init__(self, policy: RecurrentActorCriticPolicy, n_envs: int, layer: int = -1) -> None:
        self.policy, self.memory, self.layer = policy, actor_memory(policy), layer
        self.state = self.memory.initial_state(n_envs, policy.device)
        self.gates = np.zeros(0)

    def act(self, obs: Any, episode_starts: np.ndarray, mask: th.Tensor | None = None) -> np.ndarray:
        """One step; ``mask`` (n_envs, n_cells) multiplies the new memory state of ``layer`` (a clamp)."""
        starts = th.as_tensor(episode_starts.astype(np.float32), device=self.policy.device)
        previous = reset(self.state, starts)
        obs_tensor, _ = self.policy.obs_to_tensor(obs)
        with th.no_grad():
            features = BaseModel.extract_features(self.policy, obs_tensor, self.policy.pi_features_extractor)
            named = self.memory.named_states(previous)
            gates, new_named = self.memory.recompute(features, named, mask, self.layer)
            self.state = self.memory.from_named(new_named)
            actions = deterministic_actions(self.policy, self.state[0][-1])
        if mask is None:
            state = (previous[0].cpu().numpy(), previous[1].cpu().numpy())
            new_state = (self.state[0].cpu().numpy(), self.state[1].cpu().numpy())
            _verify(self.policy, obs, state, episode_starts, actions, new_state)
        self.gates = gates.cpu().numpy()
        return actions


class _Recorder:
    """The rows of every step of the episodes asked for, and the info of each env's current observation.

    The hidden state of an observation is in the info of the step that returned it, or, on an episode's
    first step, in the reset info of the innermost VecEnv.
    """

    def __init__(self, vec_env: VecEnv, n_episodes: int) -> None:
        self.n_envs, self.innermost = vec_env.num_envs, _layers(vec_env)[-1]
        self.infos: list[dict[str, Any]] = [{} for _ in range(self.n_envs)]
        self.steps = np.zeros(self.n_envs, dtype=np.int64)
        self.rows: dict[str, list[Any]] = {name: [] for name in ROWS}
        self.success = np.full(n_episodes, np.nan)

    def observe(self, episode_starts: np.ndarray) -> list[dict[str, Any]]:
        """The infos of the observations about to be acted on (reset infos where an episode starts)."""
        reset_infos = self.innermost.reset_infos
        self.infos = [
            dict(reset_infos[j]) if episode_starts[j] else self.infos[j] for j in range(self.n_envs)
        ]
        self.steps = np.where(episode_starts, 0, self.steps + 1)
        return self.infos

    def record(self, step: Step, rewards: np.ndarray, gates: np.ndarray) -> None:
        """Append the rows of the envs playing an episode asked for (``rewards``: unnormalised)."""
        flat = _flat(step.observations, self.n_envs)
        for e in np.flatnonzero(step.episodes >= 0):
            values = (
                flat[e],
                step.actions[e],
                rewards[e],
                step.dones[e],
                step.episodes[e],
                self.steps[e],
                gates[e],
                self.infos[e].get("hidden_state", {}),
                self.infos[e].get("hidden_state_visible", {}),
            )
            for name, value in zip(ROWS, values, strict=True):
                self.rows[name].append(value)
            if step.dones[e] and "is_success" in step.infos[e]:
                self.success[step.episodes[e]] = float(step.infos[e]["is_success"])
        self.infos = step.infos


def trace_episodes(
    policy: Any, env: EnvSource, n_episodes: int = 100, seed: int = 0, clamp: Clamp | None = None
) -> Trace:
    """Play ``n_episodes`` deterministic episodes on ``env`` (seeded with ``seed``) and record them.

    The episodes are evaluation's (:func:`~recurrent_rl.evaluation.episodes.episode_steps`): the same seed
    plays the same episodes whatever their lengths, so a clamped replay plays the same ones. The memory's
    state is carried per env and reset at ``episode_starts``. VecNormalize statistics are frozen while
    playing. With ``clamp`` the chosen cells are forced to zero (no check against ``predict`` then).
    """
    policy = recurrent_policy(policy)
    if n_episodes < 1:
        raise ValueError(f"n_episodes={n_episodes} is out of range: expected an integer >= 1")
    vec_env = as_vec_env(env)
    policy.set_training_mode(False)
    actor = _RecomputedActor(policy, vec_env.num_envs, clamp.layer if clamp else -1)
    recorder = _Recorder(vec_env, n_episodes)
    n_cells = actor.memory.module.hidden_size
    clamp_mask = None if clamp is None else _ClampMask(clamp, vec_env.num_envs, n_cells, policy.device)

    def act(obs: Any, episode_starts: np.ndarray) -> np.ndarray:
        infos = recorder.observe(episode_starts)
        return actor.act(
            obs, episode_starts, None if clamp_mask is None else clamp_mask(infos, episode_starts)
        )

    with _frozen_statistics(vec_env) as normalizers:
        vec_env.seed(seed)
        for step in episode_steps(vec_env, n_episodes, act):
            rewards = normalizers[0].get_original_reward() if normalizers else step.rewards
            recorder.record(step, rewards, actor.gates)
    return Trace.from_rows(recorder.rows, recorder.success, actor.memory)
