"""Recompute the LSTM states stored in a rollout with the current weights (``refresh_states``).

The rollout buffer keeps, for every step, the LSTM states the policy had when it collected that step, and
every training sequence starts from the stored state at its first step. After an epoch of updates those are
states the current network would no longer produce. :func:`refresh_lstm_states` recomputes them without
gradient, as ``collect_rollouts`` computed them: from the rollout's first stored state (the state collection
started from, which nothing in the rollout can recompute), one step at a time for all envs at once, resetting
at episode starts, in evaluation mode. Stored observations are what the policy saw (already normalised by
VecNormalize, already stacked by a frame stack), so the features extractor runs on them as they are.
"""

from __future__ import annotations

from typing import Any

import torch as th
from torch import nn

from recurrent_rl.algo.fast_buffer import FastRecurrentDictRolloutBuffer, FastRecurrentRolloutBuffer
from recurrent_rl.algo.fast_policy import FastRecurrentActorCriticPolicy, process_sequence

#: The features extractor sees at most this many observation elements at once (16 MB of float32), so a CNN
#: over a long rollout of images never holds the activations of the whole rollout at the same time.
FEATURE_CHUNK_ELEMENTS = 1 << 22


@th.no_grad()
def refresh_lstm_states(
    policy: FastRecurrentActorCriticPolicy,
    buffer: FastRecurrentRolloutBuffer | FastRecurrentDictRolloutBuffer,
) -> None:
    """Replace the stored LSTM states of ``buffer`` (flattened by ``get``) with those ``policy`` gives now.

    Actor and critic states are recomputed with their own LSTM; with a shared LSTM or no critic LSTM the
    critic's stored states are the actor's, as sb3-contrib stores them during collection.
    """
    rollout = buffer.torch_rollout()
    n_envs, n_steps = buffer.n_envs, buffer.buffer_size
    stored = rollout.states.view(n_envs, n_steps, *rollout.states.shape[1:])
    starts = rollout.episode_starts().view(n_envs, n_steps)
    training = policy.training
    policy.set_training_mode(False)
    try:
        pi_features, vf_features = rollout_features(policy, rollout.rollout_observations())
        pi_states = states_over_rollout(
            pi_features.view(n_envs, n_steps, -1), starts, stored[:, 0, :2], policy.lstm_actor
        )
        vf_states = pi_states
        if policy.lstm_critic is not None:
            vf_states = states_over_rollout(
                vf_features.view(n_envs, n_steps, -1), starts, stored[:, 0, 2:], policy.lstm_critic
            )
    finally:
        policy.set_training_mode(training)
    states = th.cat([pi_states, vf_states], dim=2)  # (n_envs, n_steps, 4, n_layers, hidden_size)
    buffer.replace_lstm_states(states.flatten(0, 1))


def rollout_features(
    policy: FastRecurrentActorCriticPolicy, observations: th.Tensor | dict[str, th.Tensor]
) -> tuple[th.Tensor, th.Tensor]:
    """The actor's and the critic's features of every observation (one tensor when the features extractor
    is shared), computed in chunks of at most :data:`FEATURE_CHUNK_ELEMENTS` observation elements.

    :param observations: (n_transitions, *obs_shape), or a dict of those
    :return: two (n_transitions, features_dim) tensors
    """
    parts = list(observations.values()) if isinstance(observations, dict) else [observations]
    n_transitions = len(parts[0])
    size = max(1, FEATURE_CHUNK_ELEMENTS // sum(part[0].numel() for part in parts))
    pi_chunks: list[th.Tensor] = []
    vf_chunks: list[th.Tensor] = []
    for start in range(0, n_transitions, size):
        if isinstance(observations, dict):
            chunk: th.Tensor | dict[str, th.Tensor] = {
                key: obs[start : start + size] for key, obs in observations.items()
            }
        else:
            chunk = observations[start : start + size]
        features: Any = policy.extract_features(chunk)  # a tensor, or (pi, vf) if not shared
        pi, vf = (features, features) if policy.share_features_extractor else features
        pi_chunks.append(pi)
        vf_chunks.append(vf)
    pi_features = th.cat(pi_chunks)
    return pi_features, pi_features if policy.share_features_extractor else th.cat(vf_chunks)


def states_over_rollout(
    features: th.Tensor, episode_starts: th.Tensor, initial: th.Tensor, lstm: nn.Module
) -> th.Tensor:
    """The states of ``lstm`` before every step of every env: ``initial`` at the first step, then one
    step at a time, reset where an episode starts (what collection stores).

    :param features: (n_envs, n_steps, features_dim)
    :param episode_starts: (n_envs, n_steps), 1.0 where the states are reset before the step
    :param initial: (n_envs, 2, n_layers, hidden_size), hidden and cell states before the first step
    :return: (n_envs, n_steps, 2, n_layers, hidden_size)
    """
    hidden, cell = initial.permute(1, 2, 0, 3)  # 2 x (n_layers, n_envs, hidden_size)
    state = (hidden.contiguous(), cell.contiguous())
    states = [th.stack(state)]
    for step in range(features.shape[1] - 1):
        _, state = process_sequence(features[:, step], state, episode_starts[:, step], lstm)
        states.append(th.stack(state))
    # n_steps x (2, n_layers, n_envs, hidden_size) -> (n_envs, n_steps, 2, n_layers, hidden_size)
    return th.stack(states).permute(3, 0, 1, 2, 4)
