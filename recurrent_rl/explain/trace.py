"""Play deterministic episodes and record every step, with the actor LSTM's gates recomputed.

The gates come from the LSTM's own weights (:func:`recurrent_rl.explain.lstm.lstm_step`) and the action
from the recomputed ``h`` exactly as ``policy.predict(obs, state, episode_start, deterministic=True)``
computes it; without a clamp every step is checked against ``predict`` (actions equal, states to 1e-4).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper, VecNormalize
from torch import nn

from recurrent_rl.artifacts.atomic import atomic_write_bytes
from recurrent_rl.explain.lstm import GATES, deterministic_actions, lstm_step, recurrent_policy

EnvSource = VecEnv | gym.Env[Any, Any] | Callable[[], VecEnv | gym.Env[Any, Any]]


@dataclass
class Clamp:
    """Force ``cells`` of the cell state ``c`` of LSTM layer ``layer`` to zero while information is held.

    With ``key`` the clamp is on from the step after ``info["hidden_state_visible"][key]`` was True
    (at steps where it is False again); with ``key=None`` from the episode's second step on.
    """

    cells: np.ndarray
    key: str | None = None
    layer: int = -1


@dataclass
class Trace:
    """Per-step records, sorted by (episode, step); arrays of shape ``[n_steps, ...]``.

    ``i, f, g, o, c, h`` have shape ``[n_steps, n_layers, n_cells]`` (after the step's update).
    ``hidden_state[key]`` / ``hidden_state_visible[key]`` describe the state at the time of the observation.
    Episode arrays (``episode_*``) have shape ``[n_episodes]``; success is NaN without ``is_success``.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    episode: np.ndarray
    step: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray
    hidden_state: dict[str, np.ndarray]
    hidden_state_visible: dict[str, np.ndarray]
    episode_return: np.ndarray
    episode_length: np.ndarray
    episode_success: np.ndarray

    @property
    def n_steps(self) -> int:
        return len(self.step)

    @property
    def n_episodes(self) -> int:
        return len(self.episode_return)

    @property
    def n_cells(self) -> int:
        return int(self.c.shape[-1])

    def save_npz(self, path: str | Path) -> Path:
        """Write every array to a compressed ``.npz`` (no pickle): ``hidden_state.<key>`` etc."""
        arrays: dict[str, np.ndarray] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, dict):
                arrays.update({f"{field.name}.{key}": array for key, array in value.items()})
            else:
                arrays[field.name] = value
        path = Path(path)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        atomic_write_bytes(path, buffer.getvalue())
        return path


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


def _verify(
    policy: RecurrentActorCriticPolicy,
    obs: Any,
    state: tuple[np.ndarray, np.ndarray],
    starts: np.ndarray,
    actions: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
) -> None:
    expected, (h_ref, c_ref) = policy.predict(obs, state, starts, deterministic=True)  # type: ignore[misc]
    same = (
        np.allclose(expected, actions, atol=1e-5)
        if actions.dtype.kind == "f"
        else np.array_equal(expected, actions)
    )
    error = max(float(np.abs(h_ref - h).max()), float(np.abs(c_ref - c).max()))
    if not same or error > 1e-4:
        raise RuntimeError(
            f"recomputed LSTM disagrees with policy.predict (state error {error:.2e}, actions equal: {same})"
        )


def trace_episodes(
    policy: Any, env: EnvSource, n_episodes: int = 100, seed: int = 0, clamp: Clamp | None = None
) -> Trace:
    """Play ``n_episodes`` deterministic episodes on ``env`` (seeded with ``seed``) and record them.

    Env ``e`` of ``n_envs`` plays episodes ``e, e + n_envs, ...``, so a replay with the same seed plays
    the same episodes whatever their lengths. The LSTM state is carried per env and reset at
    ``episode_starts``. VecNormalize statistics are frozen while playing. With ``clamp`` the chosen
    cells are forced to zero (no check against ``predict`` then).
    """
    policy = recurrent_policy(policy)
    if n_episodes < 1:
        raise ValueError(f"n_episodes={n_episodes} is out of range: expected an integer >= 1")
    vec_env = as_vec_env(env)
    lstm: nn.LSTM = policy.lstm_actor
    layers = _layers(vec_env)
    normalizers = [layer for layer in layers if isinstance(layer, VecNormalize)]
    training = [norm.training for norm in normalizers]
    for norm in normalizers:
        norm.training = False
    policy.set_training_mode(False)
    n_envs, device = vec_env.num_envs, policy.device
    state_shape = (lstm.num_layers, n_envs, lstm.hidden_size)
    h, c = th.zeros(state_shape, device=device), th.zeros(state_shape, device=device)
    starts = np.ones(n_envs, dtype=bool)
    current = np.arange(n_envs)  # episode index per env; >= n_episodes: not recording
    steps = np.zeros(n_envs, dtype=np.int64)
    seen = np.zeros(n_envs, dtype=bool)  # the clamp key was visible earlier in this episode
    clamp_cells = None if clamp is None else th.as_tensor(np.asarray(clamp.cells), device=device)
    rows: dict[str, list[Any]] = {
        name: []
        for name in ("obs", "action", "reward", "done", "episode", "step", "gates", "hidden", "visible")
    }
    success = np.full(n_episodes, np.nan)
    try:
        vec_env.seed(seed)
        obs = vec_env.reset()
        infos: list[dict[str, Any]] = [dict(info) for info in layers[-1].reset_infos]
        while (current < n_episodes).any():
            keep = th.as_tensor(1.0 - starts.astype(np.float32), device=device).view(1, -1, 1)
            h_prev, c_prev = keep * h, keep * c
            obs_tensor, _ = policy.obs_to_tensor(obs)
            with th.no_grad():
                features = BaseModel.extract_features(policy, obs_tensor, policy.pi_features_extractor)
                mask = None
                if clamp is not None and clamp_cells is not None:
                    visible = np.array(
                        [bool(i.get("hidden_state_visible", {}).get(clamp.key, False)) for i in infos]
                    )
                    seen &= ~starts
                    active = seen & ~visible if clamp.key is not None else steps >= 1
                    seen |= visible
                    mask = th.ones((n_envs, lstm.hidden_size), device=device)
                    held = th.as_tensor(np.flatnonzero(active), device=device)
                    mask[held.unsqueeze(1), clamp_cells.unsqueeze(0)] = 0.0
                gates, h, c = lstm_step(lstm, features, h_prev, c_prev, mask, clamp.layer if clamp else -1)
                actions = deterministic_actions(policy, h[-1])
            if clamp is None:
                state = (h_prev.cpu().numpy(), c_prev.cpu().numpy())
                _verify(policy, obs, state, starts, actions, h.cpu().numpy(), c.cpu().numpy())
            recording = current < n_episodes
            new_obs, rewards, dones, step_infos = vec_env.step(actions)
            if normalizers:
                rewards = normalizers[0].get_original_reward()
            flat, gate_array = _flat(obs, n_envs), gates.cpu().numpy()
            for e in np.flatnonzero(recording):
                for name, value in (
                    ("obs", flat[e]),
                    ("action", actions[e]),
                    ("reward", rewards[e]),
                    ("done", dones[e]),
                    ("episode", current[e]),
                    ("step", steps[e]),
                    ("gates", gate_array[e]),
                    ("hidden", infos[e].get("hidden_state", {})),
                    ("visible", infos[e].get("hidden_state_visible", {})),
                ):
                    rows[name].append(value)
                if dones[e] and "is_success" in step_infos[e]:
                    success[current[e]] = float(step_infos[e]["is_success"])
            infos = [dict(layers[-1].reset_infos[j]) if dones[j] else step_infos[j] for j in range(n_envs)]
            current = np.where(dones, current + n_envs, current)
            steps = np.where(dones, 0, steps + 1)
            obs, starts = new_obs, dones.astype(bool)
    finally:
        for norm, flag in zip(normalizers, training, strict=True):
            norm.training = flag
    return _assemble(rows, success, n_episodes)


def _assemble(rows: dict[str, list[Any]], success: np.ndarray, n_episodes: int) -> Trace:
    episode, step = np.asarray(rows["episode"], dtype=np.int64), np.asarray(rows["step"], dtype=np.int64)
    order = np.lexsort((step, episode))
    gates = np.stack(rows["gates"])[order].astype(np.float32)  # (T, layers, 6, cells)
    keys = list(dict.fromkeys(key for hidden in rows["hidden"] for key in hidden))
    hidden = {k: np.array([d.get(k, np.nan) for d in rows["hidden"]], dtype=np.float64)[order] for k in keys}
    visible = {k: np.array([bool(d.get(k, False)) for d in rows["visible"]])[order] for k in keys}
    rewards = np.asarray(rows["reward"], dtype=np.float64)[order]
    episode, step = episode[order], step[order]
    return Trace(
        observations=np.stack(rows["obs"])[order].astype(np.float32),
        actions=np.stack([np.asarray(a) for a in rows["action"]])[order],
        rewards=rewards,
        dones=np.asarray(rows["done"], dtype=bool)[order],
        episode=episode,
        step=step,
        **{name: gates[:, :, j] for j, name in enumerate(GATES)},
        hidden_state=hidden,
        hidden_state_visible=visible,
        episode_return=np.bincount(episode, weights=rewards, minlength=n_episodes),
        episode_length=np.bincount(episode, minlength=n_episodes),
        episode_success=success,
    )
