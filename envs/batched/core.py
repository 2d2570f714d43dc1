"""The batched-environment machinery: a core that steps ``n`` copies of an env as arrays, wrappers that
transform those arrays, and the stack that resets copies through their own single envs.

Exactness rests on one rule: every copy keeps its single env (its own ``np_random`` and, for the POMDP
wrappers, their own generators). Resets call that single env's ``reset`` (same code, same draws, same
``options``) and the core then loads the new episode's state into its arrays; ``step`` runs the dynamics
for all copies at once and takes any random draws from each copy's own generator, in the single env's
order. So a batch of copies seeded ``s, s+1, ...`` gives the rollouts of single envs seeded the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import gymnasium as gym
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
Infos = list[dict[str, Any]]
EnvT = TypeVar("EnvT", bound=gym.Env[Any, Any])
WrapperT = TypeVar("WrapperT", bound=gym.Wrapper[Any, Any, Any, Any])


class StepResult:
    """One batched step: observations, float64 rewards, terminated, truncated (the env's own), the hidden
    state ``(n, k)`` and its visibility (``(n, k)`` bools, None: never visible), and the extra info entries
    of the copies that have some (``is_success`` at an episode's end...)."""

    __slots__ = ("extras", "hidden", "obs", "rewards", "terminated", "truncated", "visible")

    def __init__(
        self,
        obs: Array,
        rewards: Array,
        terminated: Array,
        truncated: Array,
        hidden: Array,
        visible: Array | None,
        extras: dict[int, dict[str, Any]],
    ) -> None:
        self.obs, self.rewards, self.terminated, self.truncated = obs, rewards, terminated, truncated
        self.hidden, self.visible, self.extras = hidden, visible, extras


def step_infos(keys: Sequence[str], result: StepResult, limited: list[bool]) -> Infos:
    """One info dict per copy: ``hidden_state`` (Python floats), ``hidden_state_visible`` (bools), SB3's
    ``TimeLimit.truncated`` (``limited``) and the extras, built in one pass (the per-step Python cost)."""
    rows = result.hidden.tolist()
    seen = [[False] * len(keys)] * len(rows) if result.visible is None else result.visible.tolist()
    if len(keys) == 1:
        (key,) = keys
        infos = [
            {"hidden_state": {key: value}, "hidden_state_visible": {key: shown}, "TimeLimit.truncated": cut}
            for (value,), (shown,), cut in zip(rows, seen, limited, strict=True)
        ]
    else:
        infos = [
            {
                "hidden_state": dict(zip(keys, values, strict=True)),
                "hidden_state_visible": dict(zip(keys, shown, strict=True)),
                "TimeLimit.truncated": cut,
            }
            for values, shown, cut in zip(rows, seen, limited, strict=True)
        ]
    for index, extra in result.extras.items():
        infos[index].update(extra)
    return infos


class BatchedCore(Generic[EnvT]):
    """``n`` copies of one env class, stepped together. Subclasses implement :meth:`load` and :meth:`step`.

    :param envs: the copies' single envs (unwrapped), all built with the same arguments
    """

    #: The single env class this core batches (exactly this class, not subclasses).
    env_class: type[gym.Env[Any, Any]]

    def __init__(self, envs: Sequence[EnvT]) -> None:
        self.envs = list(envs)
        self.n_envs = len(self.envs)
        self.env = self.envs[0]  # the parameters (identical for every copy)
        self.observation_space = self.env.observation_space
        self.action_space = self.env.action_space
        self.keys: tuple[str, ...] = tuple(getattr(self.env, "hidden_state_kinds", {}))
        self.no_extras: dict[int, dict[str, Any]] = {}

    def load(self, index: int) -> None:
        """Copy the state of ``envs[index]`` (just reset) into the arrays."""
        raise NotImplementedError

    def step(self, actions: Array) -> StepResult:
        """Step every copy with its action (no auto-reset, no time limit)."""
        raise NotImplementedError

    def _check_discrete(self, actions: Array) -> Array:
        """Actions as int64 (``Discrete(n)`` from 0); an invalid one raises the single env's own error."""
        space = self.action_space
        assert isinstance(space, gym.spaces.Discrete) and int(space.start) == 0
        actions = np.asarray(actions)
        if actions.dtype != np.int64 or actions.shape != (self.n_envs,):
            actions = actions.astype(np.int64).reshape(self.n_envs)
        if np.count_nonzero(
            actions.view(np.uint64) >= space.n
        ):  # negative actions wrap to huge unsigned ones
            bad = int(np.flatnonzero(actions.view(np.uint64) >= space.n)[0])
            self.envs[bad].step(actions[bad])  # validates before changing anything: raises
            raise ValueError(f"action={actions[bad]!r} is invalid for {space}")
        return actions


class BatchedWrapper(Generic[WrapperT]):
    """A POMDP wrapper applied to the batched arrays; ``layers[i]`` is copy ``i``'s single wrapper.

    Subclasses implement :meth:`observation` (and keep ``observation_space`` equal to the single one's).
    """

    wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]]

    def __init__(self, layers: Sequence[WrapperT]) -> None:
        self.layers = list(layers)
        self.layer = self.layers[0]
        self.observation_space = self.layer.observation_space

    def observation(self, obs: Array, actions: Array, rewards: Array) -> Array:
        """The wrapped observations of all copies after a step with ``actions`` that paid ``rewards``."""
        raise NotImplementedError


class BatchedStack:
    """A core and its wrappers (innermost first), and the single env chain of every copy for resets.

    :param chains: each copy's single env chain (the POMDP wrappers around ``gym.make``'s env)
    :param core: the batched env
    :param wrappers: the batched wrappers, innermost first
    """

    def __init__(
        self, chains: Sequence[gym.Env[Any, Any]], core: BatchedCore[Any], wrappers: list[Any]
    ) -> None:
        self.chains = list(chains)
        self.core = core
        self.wrappers: list[BatchedWrapper[Any]] = wrappers
        self.n_envs = core.n_envs
        self.observation_space = self.chains[0].observation_space
        self.action_space = self.chains[0].action_space

    def reset(
        self, index: int, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict]:
        """Reset copy ``index`` through its single env chain; its state goes into the arrays."""
        obs, info = self.chains[index].reset(seed=seed, options=options)
        self.core.load(index)
        return obs, info

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of ``info["hidden_state"]``."""
        return self.core.keys

    def step(self, actions: Array) -> StepResult:
        result = self.core.step(actions)
        for wrapper in self.wrappers:
            result.obs = wrapper.observation(result.obs, actions, result.rewards)
        return result

    def close(self) -> None:
        for chain in self.chains:
            chain.close()
