"""Batched versions of the environments and POMDP wrappers: ``n`` copies stepped in one numpy pass.

The approach of EnvPool and PufferLib (vectorised env state, one call per step for all copies), with one
difference that makes it exact: every copy keeps its own single env chain (``gym.make`` plus the POMDP
wrappers), used for resets and as the owner of its random generators (see :mod:`envs.batched.core`). Same
seeds, same actions: the same observations, rewards, ends and infos as the single envs, bit for bit.

:func:`batch` turns the single env chains of ``n`` copies into a :class:`BatchedStack`, or raises
:class:`NotBatchable` saying why (an env or wrapper without a batched version). The SB3 ``VecEnv`` around it
(auto-reset, time limit, episode statistics) is :class:`recurrent_rl.vecenv.batched.BatchedVecEnv`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, TimeLimit

from envs.batched.cards import BatchedCountRecall, BatchedRepeatPrevious, BatchedSwitchingBandit
from envs.batched.classic import BatchedCartPoleNoVel, BatchedPendulumNoVel
from envs.batched.core import BatchedCore, BatchedStack, BatchedWrapper, StepResult
from envs.batched.grid import BatchedPixelMemoryMaze, BatchedTMaze
from envs.batched.wrappers import (
    BatchedFlicker,
    BatchedMaskObservation,
    BatchedObservationNoise,
    BatchedPreviousActionReward,
)

__all__ = [
    "CORES",
    "WRAPPERS",
    "BatchedCore",
    "BatchedStack",
    "BatchedWrapper",
    "NotBatchable",
    "StepResult",
    "batch",
]

#: Single env class -> its batched core (exact classes: a subclass may change the dynamics).
CORES: dict[type[gym.Env[Any, Any]], type[BatchedCore[Any]]] = {
    core.env_class: core
    for core in (
        BatchedTMaze,
        BatchedCartPoleNoVel,
        BatchedPendulumNoVel,
        BatchedRepeatPrevious,
        BatchedCountRecall,
        BatchedPixelMemoryMaze,
        BatchedSwitchingBandit,
    )
}

#: POMDP wrapper class -> its batched version.
WRAPPERS: dict[type[gym.Wrapper[Any, Any, Any, Any]], type[BatchedWrapper[Any]]] = {
    wrapper.wrapper_class: wrapper
    for wrapper in (
        BatchedMaskObservation,
        BatchedFlicker,
        BatchedObservationNoise,
        BatchedPreviousActionReward,
    )
}

# gym.make's wrappers that change nothing a batch must reproduce (the time limit is read, then applied by
# the caller).
_PASSIVE = (OrderEnforcing, PassiveEnvChecker)


class NotBatchable(ValueError):
    """The env chain has a part without a batched version; the message says which."""


def _layers(chain: gym.Env[Any, Any]) -> tuple[list[gym.Env[Any, Any]], gym.Env[Any, Any], int | None]:
    """(POMDP wrappers, innermost first; the base env; the TimeLimit's limit or None) of one chain."""
    wrappers: list[gym.Env[Any, Any]] = []
    limit: int | None = None
    env = chain
    while isinstance(env, gym.Wrapper):
        kind = type(env)
        if kind in WRAPPERS:
            wrappers.append(env)
        elif kind is TimeLimit:
            if limit is not None:
                raise NotBatchable("the env has two time limits")
            limit = int(env.get_wrapper_attr("_max_episode_steps"))
        elif kind not in _PASSIVE:
            raise NotBatchable(f"wrapper {kind.__name__} has no batched version")
        env = env.env
    return wrappers[::-1], env, limit


def batch(chains: Sequence[gym.Env[Any, Any]]) -> tuple[BatchedStack, int | None]:
    """The batched stack of ``chains`` (each copy's single env chain, without Monitor) and its time limit.

    :raises NotBatchable: an env or wrapper class without a batched version, or a render mode
    """
    wrappers, base, limit = _layers(chains[0])
    if type(base) not in CORES:
        raise NotBatchable(f"{type(base).__name__} has no batched version")
    if getattr(base, "render_mode", None) is not None:
        raise NotBatchable("render_mode is set (rendering needs single envs)")
    for wrapper in wrappers:
        if isinstance(wrapper, BatchedPreviousActionReward.wrapper_class) and not isinstance(
            wrapper.env.action_space, BatchedPreviousActionReward.ACTION_SPACES
        ):
            raise NotBatchable(
                f"previous_action_reward has no batched version for {wrapper.env.action_space}"
            )
    per_copy = [_layers(chain) for chain in chains]
    core = CORES[type(base)]([layers[1] for layers in per_copy])
    batched = [
        WRAPPERS[type(wrapper)]([layers[0][depth] for layers in per_copy])  # type: ignore[index]
        for depth, wrapper in enumerate(wrappers)
    ]
    return BatchedStack(chains, core, batched), limit
