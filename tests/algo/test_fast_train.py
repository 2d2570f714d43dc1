"""FastRecurrentPPO's train step on minibatches without padding must match sb3-contrib's (to 1e-5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from tests.helpers.fast_models import (
    CASES,
    TOL,
    assert_same_training,
    clone_as,
    make_pair,
    ppo_loss,
    train_once,
)


def compact_of(buffer: Any) -> list[Any]:
    """The minibatches of ``buffer`` (a fast buffer) as padded samples and as compact samples."""
    np.random.seed(5)
    padded = list(buffer.get(32))
    buffer.compact = True
    np.random.seed(5)
    compact = list(buffer.get(32))
    buffer.compact = False
    return list(zip(padded, compact, strict=True))


@pytest.mark.parametrize("case", list(CASES))
def test_compact_minibatches_match_sb3(case: str) -> None:
    """``evaluate_compact`` on a minibatch without padding equals sb3-contrib's policy on the padded one."""
    plain, fast, rollout = make_pair(case)
    discrete = isinstance(plain.action_space, spaces.Discrete)
    buffer = clone_as(rollout, type(fast.rollout_buffer))
    for data, compact in compact_of(buffer):
        mask = data.mask > 1e-8
        assert compact.n_padded == len(mask) and th.equal(compact.valid, th.nonzero(mask).flatten())
        plain.policy.optimizer.zero_grad()
        *expected, plain_loss = ppo_loss(plain.policy, data, discrete)
        plain_loss.backward()
        fast.policy.optimizer.zero_grad()
        actions = compact.actions.long().flatten() if discrete else compact.actions
        values, log_prob, entropy = fast.policy.evaluate_compact(compact, actions)
        for name, actual, wanted in zip(
            ("values", "log_prob", "entropy"), (values.flatten(), log_prob, entropy), expected, strict=True
        ):
            th.testing.assert_close(actual, wanted, atol=TOL, rtol=TOL, msg=name)
        advantages = (compact.advantages - compact.advantages.mean()) / (compact.advantages.std() + 1e-8)
        ratio = th.exp(log_prob - compact.old_log_prob)
        policy_loss = -th.mean(th.min(advantages * ratio, advantages * th.clamp(ratio, 0.8, 1.2)))
        loss = policy_loss - 0.01 * entropy.mean() + 0.5 * th.mean((compact.returns - values.flatten()) ** 2)
        loss.backward()
        th.testing.assert_close(loss, plain_loss, atol=TOL, rtol=TOL)
        for (name, p_plain), p_fast in zip(
            plain.policy.named_parameters(), fast.policy.parameters(), strict=True
        ):
            if p_plain.grad is not None:
                th.testing.assert_close(p_fast.grad, p_plain.grad, atol=TOL, rtol=TOL, msg=name)


@pytest.mark.parametrize("case", ["critic_lstm", "shared_lstm", "cnn", "box_actions", "multi_input"])
def test_train_step_matches_sb3(case: str) -> None:
    """One ``train()`` (epochs of minibatch updates) from the same weights, optimizer and rollout: our
    compact loop and sb3-contrib's padded one end at the same weights and log the same statistics."""
    plain, fast, rollout = make_pair(case)
    for model in (plain, fast):
        train_once(model, rollout, n_epochs=2)
    assert_same_training(plain, fast)
