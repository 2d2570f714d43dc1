"""The actor LSTM recomputed from its weights, and the policy's deterministic action from its output.

PyTorch's gate order is i, f, g, o::

    i, f, o = sigmoid(.), g = tanh(.)    of  W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    c_t = f * c_{t-1} + i * g            h_t = o * tanh(c_t)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from torch import nn

#: What :func:`lstm_step` records per layer, in this order.
GATES = ("i", "f", "g", "o", "c", "h")


def recurrent_policy(policy: Any) -> RecurrentActorCriticPolicy:
    """The recurrent policy of ``policy`` (a policy or an algorithm); ValueError if it has no actor LSTM."""
    policy = getattr(policy, "policy", policy)
    lstm = getattr(policy, "lstm_actor", None)
    if not isinstance(lstm, nn.LSTM):
        raise ValueError(
            f"{type(policy).__name__} has no actor LSTM (policy.lstm_actor): a memoryless policy has no "
            "memory to explain; use a recurrent policy (RecurrentPPO)"
        )
    if lstm.proj_size > 0 or lstm.bidirectional:
        raise ValueError("explain supports unidirectional LSTMs without projections only")
    return policy


def lstm_step(
    lstm: nn.LSTM, x: th.Tensor, h: th.Tensor, c: th.Tensor, clamp: th.Tensor | None = None, layer: int = -1
) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
    """One step of ``lstm`` from its weights. ``x`` (batch, in), ``h``/``c`` (layers, batch, cells).

    ``clamp`` (batch, cells) multiplies the new ``c`` of ``layer`` (1 keeps, 0 zeroes a cell).
    Returns the gates (batch, layers, 6, cells) in :data:`GATES` order and the new ``h`` and ``c``.
    """
    layer = layer % lstm.num_layers
    records, new_h, new_c = [], [], []
    for k in range(lstm.num_layers):
        z = x @ getattr(lstm, f"weight_ih_l{k}").T + h[k] @ getattr(lstm, f"weight_hh_l{k}").T
        if lstm.bias:
            z = z + getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
        zi, zf, zg, zo = z.chunk(4, dim=1)
        i, f, g, o = th.sigmoid(zi), th.sigmoid(zf), th.tanh(zg), th.sigmoid(zo)
        c_k = f * c[k] + i * g
        if clamp is not None and k == layer:
            c_k = c_k * clamp
        h_k = o * th.tanh(c_k)
        records.append(th.stack([i, f, g, o, c_k, h_k], dim=1))
        new_h.append(h_k)
        new_c.append(c_k)
        x = h_k
    return th.stack(records, dim=1), th.stack(new_h), th.stack(new_c)


def deterministic_actions(policy: RecurrentActorCriticPolicy, latent: th.Tensor) -> np.ndarray:
    """Deterministic actions from the last LSTM layer's output, post-processed as ``predict`` does."""
    distribution = policy._get_action_dist_from_latent(policy.mlp_extractor.forward_actor(latent))
    actions = distribution.get_actions(deterministic=True).cpu().numpy()
    shape: tuple[int, ...] = policy.action_space.shape or ()
    actions = actions.reshape((-1, *shape))
    if isinstance(policy.action_space, spaces.Box):
        if policy.squash_output:
            return policy.unscale_action(actions)
        return np.clip(actions, policy.action_space.low, policy.action_space.high)
    return actions
