"""FastRecurrentPPO's ``sequence_length`` and ``refresh_states``: neutral settings train exactly like
sb3-contrib (to 1e-5), the options are checked, saved with the model and restored by ``load``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sb3_contrib import RecurrentPPO

from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from tests.helpers.fast_models import CASES, SMALL, assert_same_training, cartpole_env, make_pair, train_once

# name -> (FastRecurrentPPO options, n_epochs): settings under which training must equal sb3-contrib's
NEUTRAL = {
    "defaults": ({}, 2),
    "sequence_length n_steps": ({"sequence_length": "n_steps"}, 2),
    "refresh, one epoch": ({"refresh_states": True}, 1),
    "both, one epoch": ({"sequence_length": "n_steps", "refresh_states": True}, 1),
}


@pytest.mark.parametrize("case", ["critic_lstm", "shared_lstm", "cnn", "multi_input"])
@pytest.mark.parametrize("setting", list(NEUTRAL))
def test_neutral_settings_train_like_sb3(case: str, setting: str) -> None:
    """A whole ``train()`` from the same weights and rollout ends at sb3-contrib's weights and statistics."""
    options, n_epochs = NEUTRAL[setting]
    n_steps = CASES[case][3]
    options = {key: n_steps if value == "n_steps" else value for key, value in options.items()}
    plain, fast, rollout = make_pair(case, **options)
    for model in (plain, fast):
        train_once(model, rollout, n_epochs=n_epochs)
    assert_same_training(plain, fast)


def test_options_change_training() -> None:
    """The same rollout and weights, trained with a short sequence length or refreshed states: other weights
    (so the equalities above do not hold by accident). Refreshed states change the weights little at first
    (2 epochs: 4e-6), so this trains 8 epochs (7e-4)."""
    _, reference, rollout = make_pair("critic_lstm")
    train_once(reference, rollout, n_epochs=8)
    for options in ({"sequence_length": 4}, {"refresh_states": True}):
        _, fast, _ = make_pair("critic_lstm", **options)
        train_once(fast, rollout, n_epochs=8)
        differences = [
            (ours - theirs).abs().max().item()
            for ours, theirs in zip(fast.policy.parameters(), reference.policy.parameters(), strict=True)
        ]
        assert max(differences) > 1e-4, options


def _model(n_steps: int = 16, **options: Any) -> FastRecurrentPPO:
    kwargs: dict[str, Any] = dict(n_steps=n_steps, batch_size=32, n_epochs=2, seed=1, policy_kwargs=SMALL)
    return FastRecurrentPPO("MlpLstmPolicy", cartpole_env(2), **kwargs, **options)


def test_options_are_saved_and_restored(tmp_path: Path) -> None:
    model = _model(sequence_length=4, refresh_states=True)
    assert model.rollout_buffer.sequence_length == 4
    model.learn(64)
    model.save(tmp_path / "model.zip")

    loaded = FastRecurrentPPO.load(tmp_path / "model.zip", env=cartpole_env(2))
    assert (loaded.sequence_length, loaded.refresh_states) == (4, True)
    assert loaded.rollout_buffer.sequence_length == 4
    loaded.learn(64, reset_num_timesteps=False)
    assert loaded.num_timesteps == 128

    plain = RecurrentPPO.load(tmp_path / "model.zip", env=cartpole_env(2))  # still a RecurrentPPO model
    observations = np.zeros((2, 4), dtype=np.float32)
    np.testing.assert_array_equal(
        plain.predict(observations, deterministic=True)[0], model.predict(observations, deterministic=True)[0]
    )


def test_plain_models_load_with_the_defaults(tmp_path: Path) -> None:
    plain = RecurrentPPO("MlpLstmPolicy", cartpole_env(2), n_steps=16, batch_size=32, policy_kwargs=SMALL)
    plain.save(tmp_path / "plain.zip")
    fast = FastRecurrentPPO.load(tmp_path / "plain.zip", env=cartpole_env(2))
    assert (fast.sequence_length, fast.refresh_states) == (None, False)
    assert fast.rollout_buffer.sequence_length is None


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"sequence_length": 0}, "sequence_length: expected None or an integer from 1 to n_steps=16, got 0"),
        ({"sequence_length": 17}, "got 17"),
        ({"sequence_length": 8.0}, "got 8.0"),
        ({"sequence_length": True}, "got True"),
        ({"refresh_states": 1}, "refresh_states: expected a boolean, got 1"),
        ({"refresh_states": "yes"}, "got 'yes'"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        _model(**options)


def test_edge_values_are_accepted() -> None:
    assert _model(sequence_length=1).rollout_buffer.sequence_length == 1
    assert _model(sequence_length=np.int64(16)).rollout_buffer.sequence_length == 16
