"""The actor of a recurrent policy: its memory (recomputed from the weights by the memory interface,
:meth:`~recurrent_rl.algo.memory.base.Memory.recompute`) and its deterministic action from the memory's
output."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy

from recurrent_rl.algo.memory import Memory, memory_of


def recurrent_policy(policy: Any) -> RecurrentActorCriticPolicy:
    """The recurrent policy of ``policy`` (a policy or an algorithm); ValueError if it has no actor memory."""
    policy = getattr(policy, "policy", policy)
    module = getattr(policy, "lstm_actor", None)
    if module is None:
        raise ValueError(
            f"{type(policy).__name__} has no actor memory (policy.lstm_actor): a memoryless policy has no "
            "memory to explain; use a recurrent policy (RecurrentPPO)"
        )
    actor_memory(policy)
    if module.proj_size > 0 or module.bidirectional:
        raise ValueError("explain supports unidirectional memories without projections only")
    return policy


def actor_memory(policy: RecurrentActorCriticPolicy) -> Memory:
    """The memory of the policy's actor (ValueError for a module the memory interface does not know)."""
    try:
        return memory_of(policy.lstm_actor)
    except TypeError as error:
        raise ValueError(f"explain: {error}") from None


def deterministic_actions(policy: RecurrentActorCriticPolicy, latent: th.Tensor) -> np.ndarray:
    """Deterministic actions from the last memory layer's output, post-processed as ``predict`` does."""
    distribution = policy._get_action_dist_from_latent(policy.mlp_extractor.forward_actor(latent))
    actions = distribution.get_actions(deterministic=True).cpu().numpy()
    shape: tuple[int, ...] = policy.action_space.shape or ()
    actions = actions.reshape((-1, *shape))
    if isinstance(policy.action_space, spaces.Box):
        if policy.squash_output:
            return policy.unscale_action(actions)
        return np.clip(actions, policy.action_space.low, policy.action_space.high)
    return actions
