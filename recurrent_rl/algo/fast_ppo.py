"""``FastRecurrentPPO``: sb3-contrib's RecurrentPPO with the fast policies and rollout buffers.

The algorithm (``collect_rollouts`` and the ``train`` maths) is sb3-contrib's; the policy's LSTM pass and
the minibatch padding are replaced (see :mod:`recurrent_rl.algo.fast_policy` and
:mod:`recurrent_rl.algo.fast_buffer`), and ``train`` computes the same losses on minibatches without their
padding rows (masked means become plain means over the real transitions), keeping its logged statistics
as tensors until the end of ``train`` instead of a host sync per value per minibatch. Models saved by it
load with plain ``RecurrentPPO.load``.

Two training options sb3-contrib does not have, both off by default (then training is sb3-contrib's):
``sequence_length`` (truncated backpropagation through time shorter than ``n_steps``) and
``refresh_states`` (training sequences start from LSTM states recomputed with the current weights).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.policies import (
    RecurrentActorCriticCnnPolicy,
    RecurrentActorCriticPolicy,
    RecurrentMultiInputActorCriticPolicy,
)
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import explained_variance
from torch import nn

from recurrent_rl.algo.fast_buffer import (
    CompactSamples,
    FastRecurrentDictRolloutBuffer,
    FastRecurrentRolloutBuffer,
)
from recurrent_rl.algo.fast_policy import (
    FastCnnLstmPolicy,
    FastMlpLstmPolicy,
    FastMultiInputLstmPolicy,
    FastRecurrentActorCriticPolicy,
)
from recurrent_rl.algo.state_refresh import refresh_lstm_states

# sb3-contrib policy class -> ours (MlpLstmPolicy is RecurrentActorCriticPolicy itself).
FAST_POLICIES: dict[type[BasePolicy], type[BasePolicy]] = {
    RecurrentActorCriticPolicy: FastMlpLstmPolicy,
    RecurrentActorCriticCnnPolicy: FastCnnLstmPolicy,
    RecurrentMultiInputActorCriticPolicy: FastMultiInputLstmPolicy,
}


class FastRecurrentPPO(RecurrentPPO):
    """RecurrentPPO using :mod:`recurrent_rl.algo.fast_policy` policies and the one-gather rollout buffer.

    Same constructor, hyperparameters and training maths as :class:`sb3_contrib.RecurrentPPO`. Loading a
    model saved by plain RecurrentPPO gives it our policy (same parameters) and buffer. Two keyword
    arguments follow sb3-contrib's; they are saved with the model and restored by ``load``:

    :param sequence_length: also cut training sequences every ``sequence_length`` steps of each env's part
        of the rollout (they are always cut at episode starts and minibatch boundaries); a sequence that
        starts inside an episode begins from the LSTM state stored at its first step. From 1 to ``n_steps``;
        None (the default): ``n_steps``, sb3-contrib's sequences.
    :param refresh_states: before each epoch after the first, recompute the stored LSTM states with the
        current weights (:func:`~recurrent_rl.algo.state_refresh.refresh_lstm_states`: one LSTM pass over
        the rollout, without gradient). Before the first epoch nothing has been updated, so the first epoch
        (and all of ``n_epochs=1``) trains on the collected states exactly as without the option.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpLstmPolicy": FastMlpLstmPolicy,
        "CnnLstmPolicy": FastCnnLstmPolicy,
        "MultiInputLstmPolicy": FastMultiInputLstmPolicy,
    }

    def __init__(
        self, *args: Any, sequence_length: int | None = None, refresh_states: bool = False, **kwargs: Any
    ) -> None:
        self.sequence_length = sequence_length
        self.refresh_states = refresh_states
        super().__init__(*args, **kwargs)

    def _setup_model(self) -> None:
        check_sequence_options(self.sequence_length, self.refresh_states, self.n_steps)
        # A model saved by plain RecurrentPPO names sb3-contrib's policy class: use our equivalent.
        self.policy_class = FAST_POLICIES.get(self.policy_class, self.policy_class)
        super()._setup_model()
        # Same buffer as sb3-contrib's, built again as the fast subclass.
        dict_observations = isinstance(self.observation_space, spaces.Dict)
        buffer_cls = FastRecurrentDictRolloutBuffer if dict_observations else FastRecurrentRolloutBuffer
        lstm = self.policy.lstm_actor
        assert isinstance(lstm, nn.RNNBase)
        self.rollout_buffer = buffer_cls(
            self.n_steps,
            self.observation_space,
            self.action_space,
            (self.n_steps, lstm.num_layers, self.n_envs, lstm.hidden_size),
            self.device,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
            n_envs=self.n_envs,
        )
        self.rollout_buffer.sequence_length = self.sequence_length

    def train(self) -> None:
        """Mirrors sb3-contrib's ``RecurrentPPO.train`` (the one function allowed over 60 lines).

        The same losses and updates, on minibatches without padding; kept as one loop so it reads line by
        line against the function it replaces.
        """
        buffer, policy = self.rollout_buffer, self.policy
        if not isinstance(
            buffer, FastRecurrentRolloutBuffer | FastRecurrentDictRolloutBuffer
        ) or not isinstance(policy, FastRecurrentActorCriticPolicy):
            if self.sequence_length is not None or self.refresh_states:
                raise ValueError(
                    "sequence_length and refresh_states need FastRecurrentPPO's policy and buffer"
                )
            super().train()  # a custom buffer or policy: sb3-contrib's loop
            return
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)  # type: ignore[operator]
        clip_range_vf = None
        if self.clip_range_vf is not None:
            clip_range_vf = self.clip_range_vf(self._current_progress_remaining)  # type: ignore[operator]
        discrete = isinstance(self.action_space, spaces.Discrete)
        losses: list[th.Tensor] = []  # per minibatch: policy, value, entropy loss, clip fraction
        loss = th.zeros(())
        continue_training = True
        buffer.compact = True
        try:
            for epoch in range(self.n_epochs):
                if epoch > 0 and self.refresh_states:
                    refresh_lstm_states(policy, buffer)  # the first epoch trains on the collected states
                approx_kl_divs: list[th.Tensor] = []
                for batch in buffer.get(self.batch_size):
                    assert isinstance(batch, CompactSamples)
                    actions = batch.actions.long().flatten() if discrete else batch.actions
                    values, log_prob, entropy = policy.evaluate_compact(batch, actions)
                    values = values.flatten()
                    advantages = batch.advantages
                    if self.normalize_advantage:
                        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                    log_ratio = log_prob - batch.old_log_prob
                    ratio = th.exp(log_ratio)
                    policy_loss = -th.min(
                        advantages * ratio, advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)
                    ).mean()
                    values_pred = values
                    if clip_range_vf is not None:
                        values_pred = batch.old_values + th.clamp(
                            values - batch.old_values, -clip_range_vf, clip_range_vf
                        )
                    value_loss = th.mean((batch.returns - values_pred) ** 2)
                    entropy_loss = th.mean(log_prob) if entropy is None else -th.mean(entropy)
                    loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
                    with th.no_grad():
                        clip_fraction = th.mean((th.abs(ratio - 1) > clip_range).float())
                        losses.append(th.stack([policy_loss, value_loss, entropy_loss, clip_fraction]))
                        approx_kl_divs.append(th.mean((ratio - 1) - log_ratio))
                    if self.target_kl is not None and approx_kl_divs[-1].item() > 1.5 * self.target_kl:
                        continue_training = False
                        if self.verbose >= 1:
                            kl = approx_kl_divs[-1].item()
                            print(f"Early stopping at step {epoch} due to reaching max kl: {kl:.2f}")
                        break
                    policy.optimizer.zero_grad()
                    loss.backward()
                    th.nn.utils.clip_grad_norm_(policy.parameters(), self.max_grad_norm)
                    policy.optimizer.step()
                self._n_updates += 1
                if not continue_training:
                    break
        finally:
            buffer.compact = False
        self._record_train(losses, approx_kl_divs, loss, clip_range, clip_range_vf)

    def _record_train(
        self,
        losses: list[th.Tensor],
        approx_kl_divs: list[th.Tensor],
        loss: th.Tensor,
        clip_range: float,
        clip_range_vf: float | None,
    ) -> None:
        """sb3-contrib's ``train/`` records (means over the minibatches; approx_kl over the last epoch)."""
        policy_loss, value_loss, entropy_loss, clip_fraction = th.stack(losses).double().mean(0).tolist()
        buffer = self.rollout_buffer
        explained_var = explained_variance(buffer.values.flatten(), buffer.returns.flatten())
        self.logger.record("train/entropy_loss", entropy_loss)
        self.logger.record("train/policy_gradient_loss", policy_loss)
        self.logger.record("train/value_loss", value_loss)
        self.logger.record("train/approx_kl", float(np.mean([kl.item() for kl in approx_kl_divs])))
        self.logger.record("train/clip_fraction", clip_fraction)
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/explained_variance", explained_var)
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)


def check_sequence_options(sequence_length: Any, refresh_states: Any, n_steps: int) -> None:
    """``sequence_length`` is None or an integer from 1 to ``n_steps``; ``refresh_states`` a boolean."""
    integer = isinstance(sequence_length, int | np.integer) and not isinstance(sequence_length, bool)
    if sequence_length is not None and not (integer and 1 <= sequence_length <= n_steps):
        expected = f"None or an integer from 1 to n_steps={n_steps}"
        raise ValueError(f"sequence_length: expected {expected}, got {sequence_length!r}")
    if not isinstance(refresh_states, bool | np.bool_):
        raise ValueError(f"refresh_states: expected a boolean, got {refresh_states!r}")
