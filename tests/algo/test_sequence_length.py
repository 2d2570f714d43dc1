"""``sequence_length``: training sequences start at episode starts, minibatch starts and every
``sequence_length`` steps of each env's part of the rollout, from the LSTM states stored there; the LSTM
still runs once per minibatch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th

from recurrent_rl.algo.fast_buffer import TorchRollout
from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from tests.helpers.fast_models import SMALL, cartpole_env, count_fallback_calls

N_STEPS, N_ENVS, LENGTH = 32, 4, 8


@pytest.fixture(scope="module")
def model() -> FastRecurrentPPO:
    """A model that has collected and trained on one rollout (its buffer is flattened)."""
    kwargs: dict[str, Any] = dict(n_steps=N_STEPS, batch_size=64, n_epochs=1, seed=0, policy_kwargs=SMALL)
    model = FastRecurrentPPO("MlpLstmPolicy", cartpole_env(N_ENVS), sequence_length=LENGTH, **kwargs)
    model.learn(N_STEPS * N_ENVS)
    return model


def _minibatches(
    model: FastRecurrentPPO, batch_size: int | None, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[np.ndarray, np.ndarray, Any]]:
    """Every minibatch of one pass: rollout index of each padded position, of each sequence start, sample."""
    calls: list[tuple[np.ndarray, np.ndarray]] = []
    original = TorchRollout.sample

    def recorded(self: TorchRollout, index: np.ndarray, start_index: np.ndarray) -> dict[str, Any]:
        calls.append((index, start_index))
        return original(self, index, start_index)

    monkeypatch.setattr(TorchRollout, "sample", recorded)
    np.random.seed(batch_size or 0)
    samples = list(model.rollout_buffer.get(batch_size))
    return [(*call, sample) for call, sample in zip(calls, samples, strict=True)]


def _check_cuts(
    model: FastRecurrentPPO, length: int, batch_size: int | None, monkeypatch: pytest.MonkeyPatch
) -> int:
    """Sequences start exactly at the minibatch's first step, episode starts and every ``length`` steps of
    each env, run in order within one env, and begin from the stored states; return how many start inside
    an episode at a ``length`` cut."""
    buffer = model.rollout_buffer
    episode_starts = buffer.episode_starts.flatten().astype(bool)
    pad = buffer.torch_rollout().pad_index
    stored = [buffer.__dict__[f"{kind}_states_{net}"] for net in ("pi", "vf") for kind in ("hidden", "cell")]
    cuts_inside_episodes = 0
    for index, start_index, sample in _minibatches(model, batch_size, monkeypatch):
        sequences = index.reshape(len(start_index), -1)
        assert sequences.shape[1] <= length
        batch = sequences[sequences != pad]  # the minibatch's rollout indices, in order
        starts = [i == 0 or episode_starts[t] or t % N_STEPS % length == 0 for i, t in enumerate(batch)]
        np.testing.assert_array_equal(batch[np.array(starts, dtype=bool)], start_index)
        for sequence in sequences:
            real = sequence[sequence != pad]
            assert (np.diff(real) == 1).all() and len({t // N_STEPS for t in real}) == 1  # one env, in order
        cuts_inside_episodes += sum(
            t % N_STEPS % length == 0 and t % N_STEPS != 0 and not episode_starts[t] for t in start_index
        )
        states = [*sample.lstm_states.pi, *sample.lstm_states.vf]
        for array, state in zip(stored, states, strict=True):
            th.testing.assert_close(state, th.as_tensor(array[start_index]).swapaxes(0, 1))
    return cuts_inside_episodes


@pytest.mark.parametrize("batch_size", [None, 64, 50])
def test_sequences_are_cut_every_sequence_length_steps(
    model: FastRecurrentPPO, batch_size: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cuts = _check_cuts(model, LENGTH, batch_size, monkeypatch)
    assert cuts > 0, "some sequences must start inside an episode at a sequence_length cut"


def test_compact_minibatches_cut_alike(model: FastRecurrentPPO) -> None:
    """The minibatches ``FastRecurrentPPO.train`` uses (without padding) have the same sequences."""
    buffer = model.rollout_buffer
    np.random.seed(7)
    padded = list(buffer.get(64))
    buffer.compact = True
    np.random.seed(7)
    try:
        compact = list(buffer.get(64))
    finally:
        buffer.compact = False
    for full, short in zip(padded, compact, strict=True):
        assert th.equal(short.episode_starts, full.episode_starts)
        assert th.equal(short.valid, th.nonzero(full.mask).flatten())
        assert th.equal(short.lstm_states.pi[0], full.lstm_states.pi[0])


def test_default_cuts_only_at_episode_and_env_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs: dict[str, Any] = dict(n_steps=N_STEPS, batch_size=64, n_epochs=1, seed=0, policy_kwargs=SMALL)
    model = FastRecurrentPPO("MlpLstmPolicy", cartpole_env(N_ENVS), **kwargs)
    model.learn(N_STEPS * N_ENVS)
    assert _check_cuts(model, N_STEPS, 50, monkeypatch) == 0


def test_training_keeps_one_lstm_call_per_minibatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resets happen only where sequences start, so no minibatch needs sb3-contrib's per-step loop."""
    calls = count_fallback_calls(monkeypatch)
    kwargs: dict[str, Any] = dict(n_steps=N_STEPS, batch_size=50, n_epochs=3, seed=0, policy_kwargs=SMALL)
    model = FastRecurrentPPO(
        "MlpLstmPolicy", cartpole_env(N_ENVS), sequence_length=5, refresh_states=True, **kwargs
    )
    model.learn(2 * N_STEPS * N_ENVS)
    assert calls[0] == 0
