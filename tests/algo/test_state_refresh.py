"""``refresh_states``: recomputing the stored LSTM states of a fresh rollout gives back the collected ones
(every policy type and critic set-up), and between epochs it gives the second epoch the states of the
weights the first epoch left."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import VecFrameStack, VecNormalize

from recurrent_rl.algo import fast_ppo, state_refresh
from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from recurrent_rl.algo.state_refresh import refresh_lstm_states
from tests.helpers.fast_models import CASES, SMALL, TOL, cartpole_env, make_pair, train_once

# name -> (policy, env factory, policy_kwargs, n_steps): CASES plus normalised, stacked observations
REFRESH_CASES = {
    **CASES,
    "normalize_framestack": (
        "MlpLstmPolicy",
        lambda: VecFrameStack(VecNormalize(cartpole_env()), n_stack=3),
        SMALL,
        32,
    ),
}


def _fresh_rollout(case: str) -> FastRecurrentPPO:
    """A model that learned one rollout, then collected a second (flattened by ``get``, not trained on)."""
    policy, env_fn, policy_kwargs, n_steps = REFRESH_CASES[case]
    model = FastRecurrentPPO(
        policy, env_fn(), n_steps=n_steps, batch_size=32, n_epochs=1, seed=0, policy_kwargs=policy_kwargs
    )
    model.learn(n_steps * model.n_envs)
    _, callback = model._setup_learn(n_steps * model.n_envs, reset_num_timesteps=False)
    model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=n_steps)  # type: ignore[arg-type]
    next(model.rollout_buffer.get(32))
    return model


@pytest.mark.parametrize("case", list(REFRESH_CASES))
def test_refresh_of_a_fresh_rollout_gives_the_collected_states(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_refresh, "FEATURE_CHUNK_ELEMENTS", 10_000)  # several chunks of images
    model = _fresh_rollout(case)
    buffer = model.rollout_buffer
    n_steps = buffer.buffer_size
    episode_starts = buffer.episode_starts.reshape(buffer.n_envs, n_steps)
    assert episode_starts[:, 1:].any(), "episodes must start inside the rollout"
    collected = buffer.torch_rollout().states.clone()
    assert collected[::n_steps].abs().max() > 0.01, "the rollout must start from a previous rollout's state"
    buffer.torch_rollout().states.zero_()  # what the minibatches read must come back from the refresh
    for name in ("hidden_states_pi", "cell_states_pi", "hidden_states_vf", "cell_states_vf"):
        buffer.__dict__[name][...] = 0.0
    buffer.torch_rollout().states[::n_steps] = collected[::n_steps]  # the first stored state is the start
    model.policy.set_training_mode(True)
    refresh_lstm_states(model.policy, buffer)  # type: ignore[arg-type]
    assert model.policy.training, "the training mode is restored"
    refreshed = buffer.torch_rollout().states
    th.testing.assert_close(refreshed, collected, atol=TOL, rtol=TOL)
    arrays = [buffer.hidden_states_pi, buffer.cell_states_pi, buffer.hidden_states_vf, buffer.cell_states_vf]
    np.testing.assert_array_equal(np.stack(arrays, axis=1), refreshed.numpy())


def test_refresh_gives_the_second_epoch_fresh_states(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two epochs with refresh_states: before the second, the stored states are those the weights after
    the first epoch give (computed apart from a model trained one epoch), not the collected ones, and
    training ends elsewhere than with the collected (stale) states."""
    refreshed: list[th.Tensor] = []

    def recording(policy: Any, buffer: Any) -> None:
        refresh_lstm_states(policy, buffer)
        refreshed.append(buffer.torch_rollout().states.clone())

    monkeypatch.setattr(fast_ppo, "refresh_lstm_states", recording)
    _, fresh, rollout = make_pair("critic_lstm", refresh_states=True)
    _, stale, _ = make_pair("critic_lstm")
    _, one_epoch, _ = make_pair("critic_lstm")
    train_once(fresh, rollout, n_epochs=2)
    assert len(refreshed) == 1, "one refresh: before the second epoch only"
    train_once(stale, rollout, n_epochs=2)
    train_once(one_epoch, rollout, n_epochs=1)
    collected = stale.rollout_buffer.torch_rollout().states
    assert (refreshed[0] - collected).abs().max() > 1e-3, "an epoch of updates changes the states"
    refresh_lstm_states(one_epoch.policy, one_epoch.rollout_buffer)  # type: ignore[arg-type]
    th.testing.assert_close(refreshed[0], one_epoch.rollout_buffer.torch_rollout().states, atol=TOL, rtol=TOL)
    differences = [
        (ours - theirs).abs().max().item()
        for ours, theirs in zip(fresh.policy.parameters(), stale.policy.parameters(), strict=True)
    ]
    assert max(differences) > 1e-7, "the second epoch trained on other states"
