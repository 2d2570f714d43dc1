"""``FastRecurrentPPO``: sb3-contrib's RecurrentPPO with the fast policies and rollout buffers.

The algorithm (``collect_rollouts`` and the ``train`` maths) is sb3-contrib's; only the policy's LSTM
pass and the minibatch padding are replaced (see :mod:`recurrent_rl.fast_policy` and
:mod:`recurrent_rl.fast_buffer`). Models saved by it load with plain ``RecurrentPPO.load``.
"""

from __future__ import annotations

from typing import ClassVar

from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.policies import BasePolicy

from recurrent_rl.fast_buffer import FastRecurrentDictRolloutBuffer, FastRecurrentRolloutBuffer
from recurrent_rl.fast_policy import FastCnnLstmPolicy, FastMlpLstmPolicy, FastMultiInputLstmPolicy


class FastRecurrentPPO(RecurrentPPO):
    """RecurrentPPO using :mod:`recurrent_rl.fast_policy` policies and the one-gather rollout buffer.

    Same constructor, hyperparameters and training maths as :class:`sb3_contrib.RecurrentPPO`.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpLstmPolicy": FastMlpLstmPolicy,
        "CnnLstmPolicy": FastCnnLstmPolicy,
        "MultiInputLstmPolicy": FastMultiInputLstmPolicy,
    }

    def _setup_model(self) -> None:
        super()._setup_model()
        buffer_cls = (
            FastRecurrentDictRolloutBuffer
            if isinstance(self.observation_space, spaces.Dict)
            else FastRecurrentRolloutBuffer
        )
        old = self.rollout_buffer
        self.rollout_buffer = buffer_cls(
            self.n_steps,
            self.observation_space,
            self.action_space,
            old.hidden_state_shape,
            self.device,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
            n_envs=self.n_envs,
        )
