"""Recurrent actor-critic policies that run the LSTM over a padded minibatch in one call.

Drop-in subclasses of sb3-contrib's recurrent policies: same modules, same parameters (a saved model
loads with plain ``RecurrentPPO.load``), same outputs to float precision. What changes is how the
LSTM is driven:

* training minibatches: sb3-contrib's rollout buffer cuts sequences at episode starts, so a reset can
  only happen at the first step of a padded sequence. The reset is applied to the initial
  ``lstm_states`` once and the whole minibatch goes through the LSTM in ONE call, instead of one call
  per time step. A reset in the middle of a sequence (arbitrary inputs) falls back to sb3-contrib's
  per-step loop.
* collection (one step per env): ``torch.lstm_cell`` per layer, cheaper than ``nn.LSTM`` for a
  single step.
"""

from __future__ import annotations

from typing import Any

import torch as th
from sb3_contrib.common.recurrent.policies import (
    RecurrentActorCriticCnnPolicy,
    RecurrentActorCriticPolicy,
    RecurrentMultiInputActorCriticPolicy,
)
from torch import nn

LSTMStates = tuple[th.Tensor, th.Tensor]


def _steps_with_cells(lstm: nn.LSTM) -> bool:
    """Whether a single step of ``lstm`` can be computed with ``torch.lstm_cell`` per layer."""
    return (
        not lstm.bidirectional
        and not lstm.batch_first
        and lstm.proj_size == 0
        and (lstm.dropout == 0.0 or not lstm.training or lstm.num_layers == 1)
    )


def process_sequence_per_step(
    features: th.Tensor, lstm_states: LSTMStates, episode_starts: th.Tensor, lstm: nn.LSTM
) -> tuple[th.Tensor, LSTMStates]:
    """The fallback: sb3-contrib's ``_process_sequence`` (one LSTM call per step if any reset)."""
    return RecurrentActorCriticPolicy._process_sequence(features, lstm_states, episode_starts, lstm)  # type: ignore[return-value]


def lstm_step(
    features: th.Tensor, lstm_states: LSTMStates, episode_starts: th.Tensor, lstm: nn.LSTM
) -> tuple[th.Tensor, LSTMStates]:
    """One time step for ``n_seq`` sequences: reset states at episode starts, then one cell per layer.

    :param features: (n_seq, features_dim)
    :param lstm_states: hidden and cell states, each (n_layers, n_seq, hidden_size)
    :param episode_starts: (n_seq,) 1.0 where the states must be reset before this step
    :param lstm: the LSTM whose weights are used
    :return: output (n_seq, hidden_size) and the new states
    """
    keep = (1.0 - episode_starts).view(-1, 1)
    hidden, cell = lstm_states
    output = features
    new_hidden, new_cell = [], []
    for layer in range(lstm.num_layers):
        weights = [getattr(lstm, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh")]
        biases = [getattr(lstm, f"{name}_l{layer}") for name in ("bias_ih", "bias_hh")] if lstm.bias else [None, None]
        output, layer_cell = th.lstm_cell(output, (keep * hidden[layer], keep * cell[layer]), *weights, *biases)
        new_hidden.append(output)
        new_cell.append(layer_cell)
    return output, (th.stack(new_hidden), th.stack(new_cell))


class FastRecurrentActorCriticPolicy(RecurrentActorCriticPolicy):
    """:class:`RecurrentActorCriticPolicy` with a one-call LSTM pass over padded minibatches.

    Also defaults to a fused Adam (one kernel for all parameters) when the optimizer is Adam and
    ``optimizer_kwargs`` says nothing about ``fused``/``foreach``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.optimizer_class in (th.optim.Adam, th.optim.AdamW) and not {"fused", "foreach"} & set(
            self.optimizer_kwargs
        ):
            self.optimizer_kwargs = {**self.optimizer_kwargs, "fused": True}
            self.optimizer = self.optimizer_class(
                self.parameters(), lr=self.optimizer.param_groups[0]["lr"], **self.optimizer_kwargs
            )

    @staticmethod
    def _process_sequence(
        features: th.Tensor,
        lstm_states: tuple[th.Tensor, th.Tensor],
        episode_starts: th.Tensor,
        lstm: nn.LSTM,
    ) -> tuple[th.Tensor, th.Tensor]:
        """LSTM pass over ``n_seq`` padded sequences, laid out as in sb3-contrib.

        :param features: (n_seq * max_length, features_dim), sequence-major
        :param lstm_states: initial hidden and cell states, each (n_layers, n_seq, hidden_size)
        :param episode_starts: (n_seq * max_length,) 1.0 where the states must be reset
        :param lstm: the LSTM
        :return: output (n_seq * max_length, hidden_size) and the final states
        """
        n_seq = lstm_states[0].shape[1]
        if features.shape[0] == n_seq and _steps_with_cells(lstm):
            return lstm_step(features, lstm_states, episode_starts, lstm)  # type: ignore[return-value]
        # (n_seq * max_length, dim) -> (max_length, n_seq, dim)
        features_sequence = features.reshape((n_seq, -1, lstm.input_size)).swapaxes(0, 1)
        starts = episode_starts.reshape((n_seq, -1)).swapaxes(0, 1)
        if starts[1:].any():
            # A reset in the middle of a sequence: sb3-contrib's per-step loop.
            return process_sequence_per_step(features, lstm_states, episode_starts, lstm)  # type: ignore[return-value]
        keep = (1.0 - starts[0]).view(1, n_seq, 1)
        lstm_output, new_states = lstm(features_sequence, (keep * lstm_states[0], keep * lstm_states[1]))
        return th.flatten(lstm_output.transpose(0, 1), start_dim=0, end_dim=1), new_states  # type: ignore[return-value]


class FastMlpLstmPolicy(FastRecurrentActorCriticPolicy):
    """Fast ``MlpLstmPolicy``."""


class FastCnnLstmPolicy(FastRecurrentActorCriticPolicy, RecurrentActorCriticCnnPolicy):
    """Fast ``CnnLstmPolicy`` (NatureCNN features extractor by default)."""


class FastMultiInputLstmPolicy(FastRecurrentActorCriticPolicy, RecurrentMultiInputActorCriticPolicy):
    """Fast ``MultiInputLstmPolicy`` (CombinedExtractor features extractor by default)."""
