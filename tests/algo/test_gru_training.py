"""Whole ``train()`` calls of a GRU FastRecurrentPPO: the one-call sequence pass (the fast recurrence) ends at
the weights of the per-step pass and of ``nn.GRU`` itself (to 1e-5), with the training options too; refreshed
states of a fresh rollout are the collected ones."""

from __future__ import annotations

from typing import Any

import pytest
import torch as th

from recurrent_rl.algo.memory import GRUMemory, gru
from recurrent_rl.algo.state_refresh import refresh_lstm_states
from tests.helpers.fast_models import TOL, assert_same_training, make_memory_pair, second_rollout, train_once

OPTIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "sequence_length": {"sequence_length": 8},
    "refresh_states": {"sequence_length": 8, "refresh_states": True},
}


def _count_kernel_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original = gru.gru_sequence

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return original(*args)

    monkeypatch.setattr(gru, "gru_sequence", counted)
    return calls


@pytest.mark.parametrize("reference", ["per_step", "nn.GRU"])
@pytest.mark.parametrize(
    ("case", "options"),
    [
        ("critic_lstm", "defaults"),
        ("two_layers", "sequence_length"),
        ("shared_lstm", "refresh_states"),
        ("no_critic_lstm", "defaults"),
        ("box_actions", "refresh_states"),
        ("cnn", "defaults"),
        ("multi_input", "sequence_length"),
    ],
)
def test_fast_sequence_pass_trains_like_the_reference(
    case: str, options: str, reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow, rollout = make_memory_pair(case, "gru", **OPTIONS[options])
    calls = _count_kernel_calls(monkeypatch)
    train_once(fast, rollout, n_epochs=2)
    assert calls[0] > 0, "training must take the fast recurrence"
    if reference == "per_step":  # every minibatch one step at a time, resetting at episode starts
        monkeypatch.setattr(GRUMemory, "process", GRUMemory.per_step)
    else:  # the one-call pass through the module itself
        monkeypatch.setattr(gru, "fits_sequence_kernel", lambda module: False)
    train_once(slow, rollout, n_epochs=2)
    assert_same_training(slow, fast)


@pytest.mark.parametrize("case", ["critic_lstm", "two_layers", "shared_lstm", "cnn"])
def test_refresh_of_a_fresh_gru_rollout_gives_the_collected_states(case: str) -> None:
    model, _, _ = make_memory_pair(case, "gru")
    second_rollout(model)
    buffer = model.rollout_buffer
    next(buffer.get(32))
    collected = buffer.torch_rollout().states.clone()
    assert collected[:, 0].abs().max() > 0.01 and not collected[:, 1].any() and not collected[:, 3].any()
    refresh_lstm_states(model.policy, buffer)
    th.testing.assert_close(buffer.torch_rollout().states, collected, atol=TOL, rtol=TOL)
