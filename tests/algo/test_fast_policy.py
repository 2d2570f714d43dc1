"""The fast recurrent policy/buffer must reproduce sb3-contrib's RecurrentPPO exactly (to 1e-5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.buffers import RecurrentDictRolloutBuffer, RecurrentRolloutBuffer
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from sb3_contrib.common.recurrent.type_aliases import RNNStates

from recurrent_rl.algo.fast_buffer import FastRecurrentDictRolloutBuffer, FastRecurrentRolloutBuffer
from recurrent_rl.algo.fast_policy import FastCnnLstmPolicy, FastMlpLstmPolicy, FastMultiInputLstmPolicy
from recurrent_rl.algo.fast_ppo import FastRecurrentPPO
from tests.helpers.fast_models import (
    CASES,
    SMALL,
    TOL,
    cartpole_env,
    clone_as,
    count_fallback_calls,
    make_pair,
    ppo_loss,
)


@pytest.fixture
def count_fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count calls of sb3-contrib's per-step ``_process_sequence`` made by the fast policy."""
    return count_fallback_calls(monkeypatch)


@pytest.mark.parametrize("case", list(CASES))
def test_minibatches_match_sb3(case: str, count_fallbacks: list[int]) -> None:
    plain, fast, _ = make_pair(case)
    discrete = isinstance(plain.action_space, spaces.Discrete)
    buffer = plain.rollout_buffer
    starts_inside = 0
    for batch_size in (buffer.buffer_size * buffer.n_envs, 50, 32):
        np.random.seed(batch_size)
        for data in buffer.get(batch_size):
            starts_inside += int(data.episode_starts.sum().item())
            results = []
            for model in (plain, fast):
                model.policy.optimizer.zero_grad()
                *outputs, loss = ppo_loss(model.policy, data, discrete)
                loss.backward()
                grads = {name: p.grad for name, p in model.policy.named_parameters() if p.grad is not None}
                results.append((outputs, loss, grads))
            (plain_out, plain_loss, plain_grads), (fast_out, fast_loss, fast_grads) = results
            for expected, actual in zip(plain_out, fast_out, strict=True):
                th.testing.assert_close(actual, expected, atol=TOL, rtol=TOL)
            th.testing.assert_close(fast_loss, plain_loss, atol=TOL, rtol=TOL)
            assert fast_grads.keys() == plain_grads.keys() and plain_grads
            for name, grad in plain_grads.items():
                th.testing.assert_close(fast_grads[name], grad, atol=TOL, rtol=TOL, msg=name)
    assert starts_inside > 0, "the rollout should contain episode starts"
    assert count_fallbacks[0] == 0, "real minibatches must not need the per-step fallback"


@pytest.mark.parametrize("case", ["critic_lstm", "multi_input"])
def test_buffer_minibatches_equal_sb3(case: str) -> None:
    _, fast, source = make_pair(case)
    dict_obs = isinstance(source, RecurrentDictRolloutBuffer)
    fast_cls = FastRecurrentDictRolloutBuffer if dict_obs else FastRecurrentRolloutBuffer
    assert isinstance(fast.rollout_buffer, fast_cls)
    for batch_size in (None, 64, 50, 7):
        reference, ours = clone_as(source, type(source)), clone_as(source, fast_cls)
        np.random.seed(3)
        expected = list(reference.get(batch_size))
        np.random.seed(3)
        actual = list(ours.get(batch_size))
        assert len(actual) == len(expected) > 0
        for sample_ours, sample_ref in zip(actual, expected, strict=True):
            for name in sample_ref._fields:
                _assert_equal(getattr(sample_ours, name), getattr(sample_ref, name), name)


def _assert_equal(actual: Any, expected: Any, name: str) -> None:
    if isinstance(expected, th.Tensor):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, name
        assert th.equal(actual, expected), name
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys(), name
        for key in expected:
            _assert_equal(actual[key], expected[key], f"{name}[{key}]")
    else:  # tuples of states
        assert len(actual) == len(expected), name
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_equal(a, e, f"{name}[{i}]")


@pytest.mark.parametrize("n_layers", [1, 2])
def test_fallback_for_reset_mid_sequence(n_layers: int, count_fallbacks: list[int]) -> None:
    th.manual_seed(0)
    lstm = th.nn.LSTM(6, 8, num_layers=n_layers)
    n_seq, length = 3, 5
    episode_starts = th.zeros(n_seq, length)
    episode_starts[0, 0] = 1.0
    episode_starts[1, 2] = 1.0  # reset in the middle of sequence 1
    states = (th.randn(n_layers, n_seq, 8), th.randn(n_layers, n_seq, 8))
    features = th.randn(n_seq * length, 6, requires_grad=True)
    outputs = []
    for process in (RecurrentActorCriticPolicy._process_sequence, FastMlpLstmPolicy._process_sequence):
        lstm.zero_grad()
        features.grad = None
        output, (hidden, cell) = process(features, states, episode_starts.flatten(), lstm)
        (output.square().sum() + hidden.sum() + cell.sum()).backward()
        grads = [features.grad.clone()] + [p.grad.clone() for p in lstm.parameters()]
        outputs.append([output, hidden, cell, *grads])
    assert count_fallbacks[0] == 1
    for expected, actual in zip(*outputs, strict=True):
        th.testing.assert_close(actual, expected, atol=TOL, rtol=TOL)


def test_fallback_in_evaluate_actions(count_fallbacks: list[int]) -> None:
    """A real minibatch with an extra reset inside a sequence: per-step fallback, same results and grads."""
    plain, fast, _ = make_pair("critic_lstm")
    data = next(plain.rollout_buffer.get(64))
    episode_starts = data.episode_starts.clone()
    episode_starts[3] = 1.0  # step 3 of the first padded sequence
    data = data._replace(episode_starts=episode_starts)
    results = []
    for model in (plain, fast):
        model.policy.optimizer.zero_grad()
        *outputs, loss = ppo_loss(model.policy, data, discrete=True)
        loss.backward()
        results.append([*outputs, loss, *(p.grad for p in model.policy.parameters())])
    assert count_fallbacks[0] == 2  # actor and critic LSTM
    for expected, actual in zip(*results, strict=True):
        th.testing.assert_close(actual, expected, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("case", ["critic_lstm", "two_layers", "shared_lstm", "no_critic_lstm"])
def test_collection_step_matches_sb3(case: str) -> None:
    """One step per env with resets for some envs: the single-step path equals sb3-contrib's."""
    plain, fast, _ = make_pair(case)
    n_envs = plain.n_envs
    observations = th.randn(n_envs, *plain.observation_space.shape)
    episode_starts = th.tensor([1.0, 0.0, 1.0, 0.0])[:n_envs]
    lstm = plain.policy.lstm_actor
    shape = (lstm.num_layers, n_envs, lstm.hidden_size)
    states = RNNStates((th.randn(shape), th.randn(shape)), (th.randn(shape), th.randn(shape)))
    with th.no_grad():
        expected = plain.policy(observations, states, episode_starts, deterministic=True)
        actual = fast.policy(observations, states, episode_starts, deterministic=True)
        values = [m.policy.predict_values(observations, states.vf, episode_starts) for m in (plain, fast)]
    th.testing.assert_close(actual[:3], expected[:3], atol=TOL, rtol=TOL)
    th.testing.assert_close(actual[3], expected[3], atol=TOL, rtol=TOL)
    th.testing.assert_close(values[1], values[0], atol=TOL, rtol=TOL)


def test_saved_model_loads_with_plain_recurrent_ppo(tmp_path: Any) -> None:
    kwargs: dict[str, Any] = dict(n_steps=16, batch_size=32, n_epochs=2, seed=1, policy_kwargs=SMALL)
    model = FastRecurrentPPO("MlpLstmPolicy", cartpole_env(2), **kwargs)
    assert isinstance(model.policy, FastMlpLstmPolicy)
    model.learn(64)
    model.save(tmp_path / "model.zip")

    loaded = RecurrentPPO.load(tmp_path / "model.zip", env=cartpole_env(2))
    assert isinstance(loaded.rollout_buffer, RecurrentRolloutBuffer)
    observations = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    starts = np.array([True, False])
    expected, _ = model.predict(observations, episode_start=starts, deterministic=True)
    actual, _ = loaded.predict(observations, episode_start=starts, deterministic=True)
    np.testing.assert_array_equal(actual, expected)
    for name, parameter in model.policy.state_dict().items():
        th.testing.assert_close(loaded.policy.state_dict()[name], parameter)
    loaded.learn(64, reset_num_timesteps=False)
    assert loaded.num_timesteps == 128

    again = FastRecurrentPPO.load(tmp_path / "model.zip", env=cartpole_env(2))
    assert isinstance(again.policy, FastMlpLstmPolicy)
    again.learn(64, reset_num_timesteps=False)


def test_plain_model_loads_with_fast_policy(tmp_path: Any) -> None:
    kwargs: dict[str, Any] = dict(n_steps=16, batch_size=32, n_epochs=1, seed=2, policy_kwargs=SMALL)
    plain = RecurrentPPO("MlpLstmPolicy", cartpole_env(2), **kwargs)
    plain.learn(32)
    plain.save(tmp_path / "plain.zip")
    fast = FastRecurrentPPO.load(tmp_path / "plain.zip", env=cartpole_env(2))
    assert isinstance(fast.policy, FastMlpLstmPolicy)
    assert isinstance(fast.rollout_buffer, FastRecurrentRolloutBuffer)
    for name, parameter in plain.policy.state_dict().items():
        th.testing.assert_close(fast.policy.state_dict()[name], parameter)
    fast.learn(32, reset_num_timesteps=False)


def test_policy_aliases() -> None:
    assert FastRecurrentPPO.policy_aliases == {
        "MlpLstmPolicy": FastMlpLstmPolicy,
        "CnnLstmPolicy": FastCnnLstmPolicy,
        "MultiInputLstmPolicy": FastMultiInputLstmPolicy,
    }
