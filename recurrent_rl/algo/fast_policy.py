"""Recurrent actor-critic policies that run the LSTM over a padded minibatch in one call.

Drop-in subclasses of sb3-contrib's recurrent policies: same modules and parameters (a saved model
loads with plain ``RecurrentPPO.load``), same outputs and gradients to float precision. Only the way
the LSTM is driven changes:

* training minibatches: sb3-contrib's rollout buffer cuts sequences at episode starts, so a reset can
  only happen at the first step of a padded sequence. The reset is applied to the initial
  ``lstm_states`` once and the whole minibatch goes through the LSTM in ONE call. sb3-contrib instead
  loops over time steps (one LSTM call per step) whenever any sequence starts an episode, which is
  nearly every minibatch. A reset in the middle of a sequence (arbitrary inputs, several steps per env)
  still takes sb3-contrib's per-step loop.
* collection (one step per env): ``torch.lstm_cell`` per layer, about half the cost of ``nn.LSTM``
  for a single step.
* :meth:`FastRecurrentActorCriticPolicy.evaluate_compact` (what ``FastRecurrentPPO.train`` calls): the
  features extractor, the MLP heads and the action distribution see only a minibatch's real transitions,
  not its padding (a third or more of the rows of a CNN minibatch on short episodes); a categorical
  distribution is computed directly (log-softmax) instead of through a ``torch.distributions`` object.
"""

from __future__ import annotations

from typing import Any

import torch as th
from sb3_contrib.common.recurrent.policies import (
    RecurrentActorCriticCnnPolicy,
    RecurrentActorCriticPolicy,
    RecurrentMultiInputActorCriticPolicy,
)
from stable_baselines3.common.distributions import CategoricalDistribution
from torch import nn

from recurrent_rl.algo.fast_buffer import CompactSamples

LSTMStates = tuple[th.Tensor, th.Tensor]


def process_sequence_per_step(
    features: th.Tensor, lstm_states: LSTMStates, episode_starts: th.Tensor, lstm: nn.LSTM
) -> tuple[th.Tensor, LSTMStates]:
    """The fallback: sb3-contrib's ``_process_sequence`` (one LSTM call per step when resets occur)."""
    return RecurrentActorCriticPolicy._process_sequence(features, lstm_states, episode_starts, lstm)  # type: ignore[return-value]


def steps_with_cells(lstm: nn.LSTM) -> bool:
    """Whether one step of ``lstm`` can be computed with ``torch.lstm_cell``, layer by layer."""
    dropout_active = lstm.training and lstm.dropout > 0.0 and lstm.num_layers > 1
    return not (lstm.bidirectional or lstm.batch_first or lstm.proj_size > 0 or dropout_active)


def lstm_step(
    features: th.Tensor, lstm_states: LSTMStates, episode_starts: th.Tensor, lstm: nn.LSTM
) -> tuple[th.Tensor, LSTMStates]:
    """One time step for ``n_seq`` sequences: reset the states at episode starts, one cell per layer.

    :param features: (n_seq, features_dim)
    :param lstm_states: hidden and cell states, each (n_layers, n_seq, hidden_size)
    :param episode_starts: (n_seq,) 1.0 where the states must be reset before this step
    :param lstm: the LSTM whose weights are used
    :return: output (n_seq, hidden_size) and the new states
    """
    keep = (1.0 - episode_starts).view(1, -1, 1)
    hidden, cell = keep * lstm_states[0], keep * lstm_states[1]
    output = features
    new_hidden, new_cell = [], []
    for layer, weights in enumerate(lstm.all_weights):  # [weight_ih, weight_hh, (bias_ih, bias_hh)]
        output, layer_cell = th.lstm_cell(output, (hidden[layer], cell[layer]), *weights)
        new_hidden.append(output)
        new_cell.append(layer_cell)
    return output, (th.stack(new_hidden), th.stack(new_cell))


def process_sequence(
    features: th.Tensor, lstm_states: LSTMStates, episode_starts: th.Tensor, lstm: nn.LSTM
) -> tuple[th.Tensor, LSTMStates]:
    """LSTM pass over ``n_seq`` padded sequences, with sb3-contrib's layout and results.

    :param features: (n_seq * max_length, features_dim), sequence-major
    :param lstm_states: initial hidden and cell states, each (n_layers, n_seq, hidden_size)
    :param episode_starts: (n_seq * max_length,) 1.0 where the states must be reset
    :param lstm: the LSTM
    :return: output (n_seq * max_length, hidden_size) and the final states
    """
    n_seq = lstm_states[0].shape[1]
    if features.shape[0] == n_seq and steps_with_cells(lstm):
        return lstm_step(features, lstm_states, episode_starts, lstm)
    # (n_seq * max_length, dim) -> (max_length, n_seq, dim)
    features_sequence = features.reshape((n_seq, -1, lstm.input_size)).swapaxes(0, 1)
    starts = episode_starts.reshape((n_seq, -1)).swapaxes(0, 1)
    if starts[1:].any():
        return process_sequence_per_step(features, lstm_states, episode_starts, lstm)
    keep = (1.0 - starts[0]).view(1, n_seq, 1)
    lstm_output, (hidden, cell) = lstm(features_sequence, (keep * lstm_states[0], keep * lstm_states[1]))
    # (max_length, n_seq, hidden_size) -> (n_seq * max_length, hidden_size)
    return th.flatten(lstm_output.transpose(0, 1), start_dim=0, end_dim=1), (hidden, cell)


class FastRecurrentActorCriticPolicy(RecurrentActorCriticPolicy):
    """:class:`RecurrentActorCriticPolicy` with a one-call LSTM pass (see :func:`process_sequence`).

    Adam/AdamW default to ``fused=True`` (one kernel for all parameters, about 4x cheaper per step on
    CPU) unless ``optimizer_kwargs`` sets ``fused`` or ``foreach``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        adam = self.optimizer_class in (th.optim.Adam, th.optim.AdamW)
        if adam and not {"fused", "foreach"} & self.optimizer_kwargs.keys():
            self.optimizer_kwargs = {**self.optimizer_kwargs, "fused": True}
            learning_rate = self.optimizer.param_groups[0]["lr"]
            self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
                self.parameters(), lr=learning_rate, **self.optimizer_kwargs
            )

    @staticmethod
    def _process_sequence(  # type: ignore[override]  # sb3-contrib's annotation omits the states tuple
        features: th.Tensor,
        lstm_states: LSTMStates,
        episode_starts: th.Tensor,
        lstm: nn.LSTM,
    ) -> tuple[th.Tensor, LSTMStates]:
        return process_sequence(features, lstm_states, episode_starts, lstm)

    def evaluate_compact(
        self, batch: CompactSamples, actions: th.Tensor
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """``evaluate_actions`` for a minibatch without padding rows: values, log-probabilities and
        entropies of its real transitions, equal (with their gradients) to ``evaluate_actions``' on the padded
        minibatch at those rows. Only the LSTM runs on the padded layout (padding follows every sequence's
        real steps, so it never changes their outputs)."""
        features: Any = self.extract_features(batch.observations)
        pi_features, vf_features = (features, features) if self.share_features_extractor else features
        states: Any = batch.lstm_states
        latent_pi = self._compact_sequence(pi_features, states.pi, batch, self.lstm_actor)
        if self.lstm_critic is not None:
            latent_vf = self._compact_sequence(vf_features, states.vf, batch, self.lstm_critic)
        elif self.shared_lstm:
            latent_vf = latent_pi.detach()
        else:
            assert self.critic is not None
            latent_vf = self.critic(vf_features)
        values = self.value_net(self.mlp_extractor.forward_critic(latent_vf))
        latent_pi = self.mlp_extractor.forward_actor(latent_pi)
        if isinstance(self.action_dist, CategoricalDistribution):
            # torch's Categorical: logits - logsumexp, entropy -sum(p * clamp(log p)); the same, directly.
            log_probs = th.log_softmax(self.action_net(latent_pi), dim=-1)
            log_prob = log_probs.gather(1, actions.long().view(-1, 1)).squeeze(1)
            clamped = log_probs.clamp(min=th.finfo(log_probs.dtype).min)
            return values, log_prob, -(clamped * log_probs.exp()).sum(-1)
        distribution = self._get_action_dist_from_latent(latent_pi)
        return values, distribution.log_prob(actions), distribution.entropy()

    @staticmethod
    def _compact_sequence(
        features: th.Tensor, lstm_states: LSTMStates, batch: CompactSamples, lstm: nn.LSTM
    ) -> th.Tensor:
        """The LSTM output at the real transitions: features placed into the padded layout, one pass."""
        padded = features.new_zeros((batch.n_padded, features.shape[1])).index_copy(0, batch.valid, features)
        output, _ = process_sequence(padded, lstm_states, batch.episode_starts, lstm)
        return output.index_select(0, batch.valid)


class FastMlpLstmPolicy(FastRecurrentActorCriticPolicy):
    """Fast ``MlpLstmPolicy``."""


class FastCnnLstmPolicy(FastRecurrentActorCriticPolicy, RecurrentActorCriticCnnPolicy):
    """Fast ``CnnLstmPolicy`` (NatureCNN features extractor by default)."""


class FastMultiInputLstmPolicy(FastRecurrentActorCriticPolicy, RecurrentMultiInputActorCriticPolicy):
    """Fast ``MultiInputLstmPolicy`` (CombinedExtractor features extractor by default)."""
