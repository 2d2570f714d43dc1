"""Recurrent actor-critic policies that run their memory over a padded minibatch in one call.

Drop-in subclasses of sb3-contrib's recurrent policies: same modules and parameters (a saved LSTM model
loads with plain ``RecurrentPPO.load``), same outputs and gradients to float precision. What changes:

* the memory: ``memory="lstm"`` (sb3-contrib's ``nn.LSTM``, the default) or ``"gru"`` (an ``nn.GRU`` in the
  same attributes ``lstm_actor`` / ``lstm_critic``, its state carried in sb3-contrib's ``(h, c)`` pair with
  ``c`` zero: see :mod:`recurrent_rl.algo.memory`). Every pass goes through the memory interface
  (:meth:`~recurrent_rl.algo.memory.base.Memory.process`):
* training minibatches: sb3-contrib's rollout buffer cuts sequences at episode starts, so a reset can
  only happen at the first step of a padded sequence. The reset is applied to the initial
  ``lstm_states`` once and the whole minibatch goes through the memory in ONE call. sb3-contrib instead
  loops over time steps (one LSTM call per step) whenever any sequence starts an episode, which is
  nearly every minibatch. A reset in the middle of a sequence (arbitrary inputs, several steps per env)
  still takes a per-step loop (sb3-contrib's own for the LSTM).
* collection (one step per env): ``torch.lstm_cell`` / ``torch.gru_cell`` per layer, about half the cost of
  the module for a single step.
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
from recurrent_rl.algo.memory import MEMORIES, Memory, States, memory_of
from recurrent_rl.config.schema import MemoryName


def process_sequence(
    features: th.Tensor, lstm_states: States, episode_starts: th.Tensor, lstm: nn.Module
) -> tuple[th.Tensor, States]:
    """The memory ``lstm`` (an LSTM or GRU module) over ``n_seq`` padded sequences, with sb3-contrib's
    layout and results (:meth:`~recurrent_rl.algo.memory.base.Memory.process`).

    :param features: (n_seq * max_length, features_dim), sequence-major
    :param lstm_states: initial states ``(hidden, cell)``, each (n_layers, n_seq, hidden_size)
    :param episode_starts: (n_seq * max_length,) 1.0 where the states must be reset
    :param lstm: the memory's module
    :return: output (n_seq * max_length, hidden_size) and the final states
    """
    return memory_of(lstm).process(features, lstm_states, episode_starts)


class FastRecurrentActorCriticPolicy(RecurrentActorCriticPolicy):
    """:class:`RecurrentActorCriticPolicy` with a one-call memory pass (see :func:`process_sequence`).

    :param memory: ``"lstm"`` (sb3-contrib's, the default) or ``"gru"``: the cell of ``lstm_actor`` and
        ``lstm_critic``; sb3-contrib's ``lstm_*`` arguments size it whatever it is. Other arguments are
        sb3-contrib's.

    Adam/AdamW default to ``fused=True`` (one kernel for all parameters, about 4x cheaper per step on
    CPU) unless ``optimizer_kwargs`` sets ``fused`` or ``foreach``.
    """

    def __init__(self, *args: Any, memory: MemoryName = "lstm", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memory = memory
        swapped = self._build_memory(MEMORIES[memory])
        adam = self.optimizer_class in (th.optim.Adam, th.optim.AdamW)
        fuse = adam and not {"fused", "foreach"} & self.optimizer_kwargs.keys()
        if fuse:
            self.optimizer_kwargs = {**self.optimizer_kwargs, "fused": True}
        if fuse or swapped:
            learning_rate = self.optimizer.param_groups[0]["lr"]
            self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
                self.parameters(), lr=learning_rate, **self.optimizer_kwargs
            )

    def _build_memory(self, memory_class: type[Memory]) -> bool:
        """Replace sb3-contrib's ``nn.LSTM`` modules by ``memory_class`` ones of the same sizes (same
        attribute names, so saved files and sb3-contrib's code paths keep working); False: nothing to do."""
        if type(self.lstm_actor) is memory_class.module_class:
            return False
        layers, hidden = self.lstm_hidden_state_shape[0], self.lstm_output_dim

        def new_module() -> Any:  # sb3-contrib annotates the attributes nn.LSTM; they hold any memory module
            return memory_class.build(self.features_dim, hidden, layers, **self.lstm_kwargs)

        self.lstm_actor = new_module()
        if self.lstm_critic is not None:
            self.lstm_critic = new_module()
        return True

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "memory": self.memory}

    @staticmethod
    def _process_sequence(  # type: ignore[override]  # sb3-contrib's annotation omits the states tuple
        features: th.Tensor,
        lstm_states: States,
        episode_starts: th.Tensor,
        lstm: nn.Module,
    ) -> tuple[th.Tensor, States]:
        return process_sequence(features, lstm_states, episode_starts, lstm)

    def evaluate_compact(
        self, batch: CompactSamples, actions: th.Tensor
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """``evaluate_actions`` for a minibatch without padding rows: values, log-probabilities and
        entropies of its real transitions, equal (with their gradients) to ``evaluate_actions``' on the padded
        minibatch at those rows. Only the memory runs on the padded layout (padding follows every sequence's
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
        features: th.Tensor, lstm_states: States, batch: CompactSamples, lstm: nn.Module
    ) -> th.Tensor:
        """The memory's output at the real transitions: features placed into the padded layout, one pass."""
        padded = features.new_zeros((batch.n_padded, features.shape[1])).index_copy(0, batch.valid, features)
        output, _ = process_sequence(padded, lstm_states, batch.episode_starts, lstm)
        return output.index_select(0, batch.valid)


class FastMlpLstmPolicy(FastRecurrentActorCriticPolicy):
    """Fast ``MlpLstmPolicy``."""


class FastCnnLstmPolicy(FastRecurrentActorCriticPolicy, RecurrentActorCriticCnnPolicy):
    """Fast ``CnnLstmPolicy`` (NatureCNN features extractor by default)."""


class FastMultiInputLstmPolicy(FastRecurrentActorCriticPolicy, RecurrentMultiInputActorCriticPolicy):
    """Fast ``MultiInputLstmPolicy`` (CombinedExtractor features extractor by default)."""
