"""``FastRecurrentPPO``: sb3-contrib's RecurrentPPO with the fast policies and rollout buffers.

The algorithm (``collect_rollouts`` and the ``train`` maths) is sb3-contrib's; only the policy's LSTM
pass and the minibatch padding are replaced (see :mod:`recurrent_rl.algo.fast_policy` and
:mod:`recurrent_rl.algo.fast_buffer`). Models saved by it load with plain ``RecurrentPPO.load``.
"""

from __future__ import annotations

from typing import ClassVar

from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.policies import (
    RecurrentActorCriticCnnPolicy,
    RecurrentActorCriticPolicy,
    RecurrentMultiInputActorCriticPolicy,
)
from stable_baselines3.common.policies import BasePolicy
from torch import nn

from recurrent_rl.algo.fast_buffer import FastRecurrentDictRolloutBuffer, FastRecurrentRolloutBuffer
from recurrent_rl.algo.fast_policy import FastCnnLstmPolicy, FastMlpLstmPolicy, FastMultiInputLstmPolicy

# sb3-contrib policy class -> ours (MlpLstmPolicy is RecurrentActorCriticPolicy itself).
FAST_POLICIES: dict[type[BasePolicy], type[BasePolicy]] = {
    RecurrentActorCriticPolicy: FastMlpLstmPolicy,
    RecurrentActorCriticCnnPolicy: FastCnnLstmPolicy,
    RecurrentMultiInputActorCriticPolicy: FastMultiInputLstmPolicy,
}


class FastRecurrentPPO(RecurrentPPO):
    """RecurrentPPO using :mod:`recurrent_rl.algo.fast_policy` policies and the one-gather rollout buffer.

    Same constructor, hyperparameters and training maths as :class:`sb3_contrib.RecurrentPPO`. Loading a
    model saved by plain RecurrentPPO gives it our policy (same parameters) and buffer.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpLstmPolicy": FastMlpLstmPolicy,
        "CnnLstmPolicy": FastCnnLstmPolicy,
        "MultiInputLstmPolicy": FastMultiInputLstmPolicy,
    }

    def _setup_model(self) -> None:
        # A model saved by plain RecurrentPPO names sb3-contrib's policy class: use our equivalent.
        self.policy_class = FAST_POLICIES.get(self.policy_class, self.policy_class)
        super()._setup_model()
        # Same buffer as sb3-contrib's, built again as the fast subclass.
        dict_observations = isinstance(self.observation_space, spaces.Dict)
        buffer_cls = FastRecurrentDictRolloutBuffer if dict_observations else FastRecurrentRolloutBuffer
        lstm = self.policy.lstm_actor
        assert isinstance(lstm, nn.LSTM)
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
