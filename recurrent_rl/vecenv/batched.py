"""``BatchedVecEnv``: an SB3 ``VecEnv`` that steps all copies of one of our envs in one numpy pass.

It behaves exactly as ``DummyVecEnv`` of ``Monitor``-wrapped single envs (tested step by step): the same
observations, float32 rewards, dones and infos, including ``TimeLimit.truncated``, ``terminal_observation``
and ``Monitor``'s ``episode`` (``r``, ``l``, ``t``) at every episode end, auto-reset with ``reset_infos``,
seeds ``seed + i`` at the first reset. What differs is the cost: one vectorised step (see
:mod:`envs.batched`) instead of ``n`` Python calls through five wrappers and a deep copy of the infos.
VecNormalize, VecFrameStack and VecTransposeImage wrap it as any VecEnv.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common import env_util
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from envs.batched import NotBatchable, batch
from envs.batched.core import step_infos
from recurrent_rl.errors import UserError

__all__ = ["BatchedVecEnv", "EpisodeSums", "NotBatchable", "batched_vec_env"]


class EpisodeSums:
    """Per-copy episode returns summed as ``Monitor`` does (``sum`` of Python floats).

    Python 3.12+'s ``sum`` of floats is Neumaier-compensated; earlier versions add left to right. Both
    are reproduced element-wise, so ``episode["r"]`` is bit-identical to ``Monitor``'s.
    """

    COMPENSATED = sys.version_info >= (3, 12)

    def __init__(self, n: int) -> None:
        self.total = np.zeros(n, dtype=np.float64)
        self.compensation = np.zeros(n, dtype=np.float64)
        self.length = np.zeros(n, dtype=np.int64)

    def add(self, rewards: np.ndarray) -> None:
        self.length += 1
        if not self.COMPENSATED:
            self.total += rewards
            return
        total = self.total + rewards
        bigger = np.abs(self.total) >= np.abs(rewards)
        self.compensation += np.where(bigger, (self.total - total) + rewards, (rewards - total) + self.total)
        self.total = total

    def pop(self, index: int) -> tuple[float, int]:
        """(return, length) of copy ``index``'s episode; its sums restart."""
        total, compensation = float(self.total[index]), float(self.compensation[index])
        if compensation and math.isfinite(compensation):
            total += compensation
        length = int(self.length[index])
        self.total[index] = self.compensation[index] = 0.0
        self.length[index] = 0
        return total, length


def _without_monitor(env: gym.Env[Any, Any]) -> gym.Env[Any, Any]:
    """The chain inside the outer default ``Monitor`` (whose statistics :class:`BatchedVecEnv` produces)."""
    if not isinstance(env, Monitor):
        raise NotBatchable("the env is not wrapped in a Monitor")
    if env.results_writer is not None or env.info_keywords or env.reset_keywords:
        raise NotBatchable("the Monitor writes a file or records extra keys")
    return env.env


class BatchedVecEnv(VecEnv):
    """``DummyVecEnv``'s behaviour for ``Monitor``-wrapped envs of :mod:`envs` (and their POMDP wrappers),
    stepped as arrays.

    :param env_fns: functions that each return one ``Monitor``-wrapped env, as for ``DummyVecEnv``
    :raises NotBatchable: the envs have a part without a batched version (see :func:`envs.batched.batch`)

    ``get_attr`` reads each copy's single env, which only resets: constants (``spec``,
    ``hidden_state_kinds``, constructor arguments) are right, but step-dependent attributes (positions,
    counters) are those of the episode's start. ``env_method`` and ``set_attr`` are not supported.
    """

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env[Any, Any]]]) -> None:
        chains: list[gym.Env[Any, Any]] = []
        try:
            for make in env_fns:
                chains.append(_without_monitor(make()))
                if len(chains) == 1:
                    batch(chains)  # refuse before making the other copies
            self._stack, self._limit = batch(chains)
        except Exception:
            for chain in chains:
                chain.close()
            raise
        super().__init__(len(chains), self._stack.observation_space, self._stack.action_space)
        self.metadata = chains[0].metadata
        self._actions: np.ndarray | None = None
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._episodes = EpisodeSums(self.num_envs)
        self._t_start = time.time()
        self._keys = self._stack.keys
        self._no_limits = [False] * self.num_envs

    def reset(self) -> VecEnvObs:
        observations = []
        for i in range(self.num_envs):
            obs, self.reset_infos[i] = self._stack.reset(i, self._seeds[i], self._options[i] or None)
            observations.append(obs)
            self._episodes.pop(i)
        self._elapsed[:] = 0
        self._reset_seeds()
        self._reset_options()
        return np.stack(observations)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        assert self._actions is not None, "step_async first"
        result = self._stack.step(self._actions)
        elapsed = self._elapsed
        elapsed += 1
        terminated, truncated, obs = result.terminated, result.truncated, result.obs
        if self._limit is not None:
            truncated = truncated | (elapsed >= self._limit)
        dones = terminated | truncated
        self._episodes.add(result.rewards)
        if not np.count_nonzero(dones):
            return (
                obs,
                result.rewards.astype(np.float32),
                dones,
                step_infos(self._keys, result, self._no_limits),
            )
        infos = step_infos(self._keys, result, (truncated & ~terminated).tolist())
        now = time.time()
        for i in np.flatnonzero(dones).tolist():  # after the infos: a reset overwrites the state arrays
            total, length = self._episodes.pop(i)
            infos[i]["episode"] = {"r": round(total, 6), "l": length, "t": round(now - self._t_start, 6)}
            infos[i]["terminal_observation"] = obs[i].copy()
            obs[i], self.reset_infos[i] = self._stack.reset(i)
            elapsed[i] = 0
        return obs, result.rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self._stack.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]  # render_mode is None: batching refuses the others

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [self._stack.chains[i].get_wrapper_attr(attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise NotImplementedError("BatchedVecEnv steps its envs as arrays: set_attr is not supported")

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        raise NotImplementedError("BatchedVecEnv steps its envs as arrays: env_method is not supported")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        # Monitor: its statistics are produced here.
        return [
            wrapper_class is Monitor or env_util.is_wrapped(self._stack.chains[i], wrapper_class)
            for i in self._get_indices(indices)
        ]


def batched_vec_env(kind: str, env_fns: Sequence[Callable[[], gym.Env[Any, Any]]]) -> BatchedVecEnv | None:
    """A :class:`BatchedVecEnv` for ``env.vec_env`` ``auto`` or ``batched``; None when ``auto`` cannot batch.

    :raises UserError: ``batched`` for envs without a batched version (the message says which part)
    """
    try:
        return BatchedVecEnv(env_fns)
    except NotBatchable as error:
        if kind == "batched":
            raise _not_available(error) from None
        return None


def check_batchable(env: gym.Env[Any, Any]) -> None:
    """A UserError for ``env.vec_env: batched`` when ``env`` (one copy's chain, without Monitor) has a part
    without a batched version."""
    try:
        batch([env])
    except NotBatchable as error:
        raise _not_available(error) from None


def _not_available(error: NotBatchable) -> UserError:
    return UserError(f"env.vec_env: batched is not available here: {error} (use auto, dummy or subproc)")
