"""Rollout buffers that pad minibatches with one gather instead of one tensor per sequence.

sb3-contrib's :class:`RecurrentRolloutBuffer` builds every padded minibatch from a Python list of
per-sequence tensors (``pad_sequence``), for every minibatch of every epoch. These subclasses convert
the flattened rollout to torch tensors once per rollout (with a trailing zero row used as padding) and
build each minibatch with a single index per field. Minibatches are identical to sb3-contrib's: same
sequences, same padding, same dtypes, same consumption of ``np.random``.

Two additions, both off by default (see :class:`~recurrent_rl.algo.fast_ppo.FastRecurrentPPO`):
``sequence_length`` also cuts training sequences every ``sequence_length`` steps of each env's segment,
and :meth:`_PadOncePerRollout.replace_lstm_states` lets the stored LSTM states be recomputed between epochs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from sb3_contrib.common.recurrent.buffers import RecurrentDictRolloutBuffer, RecurrentRolloutBuffer
from sb3_contrib.common.recurrent.type_aliases import (
    RecurrentDictRolloutBufferSamples,
    RecurrentRolloutBufferSamples,
    RNNStates,
)
from stable_baselines3.common.vec_env import VecNormalize

# Per-transition scalars gathered together, in this order, as one (n_transitions + 1, 6) tensor.
_SCALARS = ("values", "log_probs", "advantages", "returns", "episode_starts")
# The stored LSTM states, in the order of ``TorchRollout.states``' second axis.
_STATES = ("hidden_states_pi", "cell_states_pi", "hidden_states_vf", "cell_states_vf")


class CompactSamples(NamedTuple):
    """A minibatch without its padding: per-transition fields hold only the real transitions, in the
    padded layout's order; ``episode_starts`` keeps the padded layout (the LSTM runs on it), and ``valid``
    says where each real transition sits in it (``n_padded`` positions in all)."""

    observations: th.Tensor | dict[str, th.Tensor]
    actions: th.Tensor
    old_values: th.Tensor
    old_log_prob: th.Tensor
    advantages: th.Tensor
    returns: th.Tensor
    lstm_states: RNNStates
    episode_starts: th.Tensor
    valid: th.Tensor
    n_padded: int


def padding_index(
    episode_starts: np.ndarray, env_change: np.ndarray, batch_inds: np.ndarray, pad_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a minibatch into sequences exactly like sb3-contrib's ``create_sequencers``.

    :param episode_starts: flattened ``episode_starts`` of the whole rollout
    :param env_change: flattened flags of the other sequence starts: the first step of each env in the
        rollout (and, with ``sequence_length``, every ``sequence_length``-th step of each env)
    :param batch_inds: rollout indices of the minibatch, in sequence order
    :param pad_index: index of the zero row used for padding
    :return: rollout index of every padded position ``(n_seq * max_length,)`` (``pad_index`` for
        padding) and rollout index of each sequence start ``(n_seq,)``
    """
    seq_start = np.logical_or(episode_starts[batch_inds], env_change[batch_inds]).flatten()
    seq_start[0] = True
    starts = np.flatnonzero(seq_start)
    lengths = np.diff(np.append(starts, len(batch_inds)))
    offsets = np.arange(lengths.max())
    positions = starts[:, None] + offsets[None, :]
    valid = offsets[None, :] < lengths[:, None]
    index = np.where(valid, batch_inds[np.minimum(positions, len(batch_inds) - 1)], pad_index)
    return index.reshape(-1), batch_inds[starts]


class TorchRollout:
    """The flattened rollout as torch tensors, each with a trailing zero row for padding."""

    def __init__(self, buffer: RecurrentRolloutBuffer | RecurrentDictRolloutBuffer) -> None:
        def padded(array: np.ndarray) -> th.Tensor:
            zeros = np.zeros((1, *array.shape[1:]), dtype=array.dtype)
            return th.as_tensor(np.concatenate([array, zeros]), device=buffer.device)

        scalars = np.concatenate([buffer.__dict__[name] for name in _SCALARS], axis=1)
        ones = np.ones((len(scalars), 1), dtype=scalars.dtype)
        self.scalars = padded(np.concatenate([scalars, ones], axis=1))  # last column: mask
        self.actions = padded(buffer.actions)
        if isinstance(buffer.observations, dict):
            self.observations: th.Tensor | dict[str, th.Tensor] = {
                key: padded(obs) for key, obs in buffer.observations.items()
            }
        else:
            self.observations = padded(buffer.observations)
        # (n_transitions, 4, n_layers, hidden_size): hidden_pi, cell_pi, hidden_vf, cell_vf
        states = [buffer.__dict__[name] for name in _STATES]
        self.states = th.as_tensor(np.stack(states, axis=1), device=buffer.device)
        self.pad_index = len(scalars)

    def episode_starts(self) -> th.Tensor:
        """``(n_transitions,)``: 1.0 where an episode starts, in the flattened rollout's order."""
        return self.scalars[: self.pad_index, 4]

    def rollout_observations(self) -> th.Tensor | dict[str, th.Tensor]:
        """Every transition's observation (no padding row), in the flattened rollout's order."""
        if isinstance(self.observations, dict):
            return {key: obs[: self.pad_index] for key, obs in self.observations.items()}
        return self.observations[: self.pad_index]

    def _observations(self, rows: th.Tensor) -> th.Tensor | dict[str, th.Tensor]:
        """The observations at ``rows`` (each key's for dict observations)."""
        if isinstance(self.observations, dict):
            return {key: obs[rows] for key, obs in self.observations.items()}
        return self.observations[rows]

    def _lstm_states(self, start_index: np.ndarray) -> RNNStates:
        """The LSTM states at the first step of each sequence."""
        states = self.states[th.as_tensor(start_index, device=self.scalars.device)]
        # (n_seq, 4, n_layers, hidden) -> 4 x (n_layers, n_seq, hidden)
        hidden_pi, cell_pi, hidden_vf, cell_vf = states.permute(1, 2, 0, 3).contiguous()
        return RNNStates((hidden_pi, cell_pi), (hidden_vf, cell_vf))

    def sample(self, index: np.ndarray, start_index: np.ndarray) -> dict[str, Any]:
        """Fields of a ``Recurrent*RolloutBufferSamples`` for one padded minibatch."""
        index_t = th.as_tensor(index, device=self.scalars.device)
        values, log_probs, advantages, returns, episode_starts, mask = self.scalars[index_t].T.contiguous()
        return dict(
            observations=self._observations(index_t),
            actions=self.actions[index_t],
            old_values=values,
            old_log_prob=log_probs,
            advantages=advantages,
            returns=returns,
            lstm_states=self._lstm_states(start_index),
            episode_starts=episode_starts,
            mask=mask,
        )

    def sample_compact(self, index: np.ndarray, start_index: np.ndarray) -> CompactSamples:
        """The minibatch of :meth:`sample` without its padding rows (see :class:`CompactSamples`)."""
        device = self.scalars.device
        valid = np.flatnonzero(index != self.pad_index)
        rows = th.as_tensor(index[valid], device=device)
        values, log_probs, advantages, returns, _, _ = self.scalars[rows].T.contiguous()
        episode_starts = self.scalars[th.as_tensor(index, device=device), 4]
        return CompactSamples(
            self._observations(rows),
            self.actions[rows],
            values,
            log_probs,
            advantages,
            returns,
            self._lstm_states(start_index),
            episode_starts,
            th.as_tensor(valid, device=device),
            len(index),
        )


class _PadOncePerRollout:
    """Mixin for the recurrent buffers: tensors built once per rollout, one gather per field per minibatch."""

    _rollout: TorchRollout | None = None
    episode_starts: np.ndarray
    #: Set by :class:`~recurrent_rl.algo.fast_ppo.FastRecurrentPPO` while it trains: minibatches are then
    #: :class:`CompactSamples` (no padding rows) instead of sb3-contrib's padded samples.
    compact: bool = False
    #: The samples type of the sb3-contrib buffer this mixin speeds up.
    _samples: type[RecurrentRolloutBufferSamples] | type[RecurrentDictRolloutBufferSamples]
    #: Also cut training sequences every ``sequence_length`` steps of each env's segment (a sequence
    #: starting there begins from the stored state of that step); None: at episode starts, at each env's
    #: first step and at minibatch boundaries only (sb3-contrib's cuts).
    sequence_length: int | None = None
    buffer_size: int
    n_envs: int
    generator_ready: bool

    def reset(self) -> None:
        super().reset()  # type: ignore[misc]
        self._rollout = None

    def torch_rollout(self) -> TorchRollout:
        """The flattened rollout as torch tensors, built once per rollout (``get`` flattens the buffer)."""
        if not self.generator_ready:
            raise RuntimeError("the rollout buffer is not flattened yet: call get() first")
        if self._rollout is None:
            self._rollout = TorchRollout(self)  # type: ignore[arg-type]
        return self._rollout

    def sequence_starts(self, env_change: np.ndarray) -> np.ndarray:
        """``env_change`` (each env's first step), with every ``sequence_length``-th step flagged too."""
        if self.sequence_length is None:
            return env_change
        cuts = np.arange(self.buffer_size) % self.sequence_length == 0
        # flattened env by env, like env_change: (n_envs * n_steps, 1)
        return np.logical_or(env_change, np.tile(cuts, self.n_envs).reshape(env_change.shape))

    def replace_lstm_states(self, states: th.Tensor) -> None:
        """Replace every transition's stored LSTM states, in the tensors minibatches are built from and in
        the buffer's arrays.

        :param states: (n_transitions, 4, n_layers, hidden_size): hidden and cell states of the actor's
            LSTM, then the critic's, in the flattened rollout's order
        """
        rollout = self.torch_rollout()
        rollout.states.copy_(states)
        arrays = states.cpu().numpy()
        for position, name in enumerate(_STATES):
            self.__dict__[name][...] = arrays[:, position]

    def _get_samples(
        self, batch_inds: np.ndarray, env_change: np.ndarray, env: VecNormalize | None = None
    ) -> RecurrentRolloutBufferSamples | RecurrentDictRolloutBufferSamples | CompactSamples:
        rollout = self.torch_rollout()
        index, start_index = padding_index(
            self.episode_starts, self.sequence_starts(env_change), batch_inds, rollout.pad_index
        )
        if self.compact:
            return rollout.sample_compact(index, start_index)
        return self._samples(**rollout.sample(index, start_index))


class FastRecurrentRolloutBuffer(_PadOncePerRollout, RecurrentRolloutBuffer):  # type: ignore[misc]
    """:class:`RecurrentRolloutBuffer` that pads each minibatch with one gather per field."""

    _samples = RecurrentRolloutBufferSamples


class FastRecurrentDictRolloutBuffer(_PadOncePerRollout, RecurrentDictRolloutBuffer):  # type: ignore[misc]
    """:class:`RecurrentDictRolloutBuffer` that pads each minibatch with one gather per field."""

    _samples = RecurrentDictRolloutBufferSamples
