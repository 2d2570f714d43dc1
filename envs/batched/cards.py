"""Batched RepeatPrevious, CountRecall and SwitchingBandit."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.bandit import SwitchingBanditEnv
from envs.batched.core import Array, BatchedCore, StepResult
from envs.count_recall import CountRecallEnv
from envs.repeat_previous import RepeatPreviousEnv


class _BatchedCards(BatchedCore[Any]):
    """Shared state of the card tasks: the dealt cards, the step and the score of each copy."""

    def __init__(self, envs: list[Any]) -> None:
        super().__init__(envs)
        n, e = self.n_envs, self.env
        self.cards = np.zeros((n, e.episode_length + 1), dtype=np.int64)
        self.t = np.zeros(n, dtype=np.int64)
        self.score = np.zeros(n, dtype=np.int64)
        self.rows = np.arange(n)
        self._eye = np.eye(e.n_cards, dtype=np.float32)
        self._reward = np.array([0.0, e._reward])
        self._never = np.zeros(n, dtype=bool)

    def load(self, index: int) -> None:
        self.cards[index] = self.envs[index]._cards
        self.t[index] = 0
        self.score[index] = 0

    def _observe(self) -> Array:
        return self._eye[self.cards[self.rows, self.t]]

    def _finish(self, correct: Array, hidden: Any, scored: int) -> StepResult:
        """Score, advance, observe; ``hidden()`` gives the hidden values after the step."""
        rewards = self._reward[correct.view(np.int8)]
        self.score += correct
        self.t += 1
        terminated = self.t >= self.env.episode_length
        extras = self.no_extras
        if np.count_nonzero(terminated):
            extras = {}
            for i in np.flatnonzero(terminated).tolist():
                score = int(self.score[i])
                extras[i] = {"is_success": score == scored, "accuracy": score / scored}
        return StepResult(self._observe(), rewards, terminated, self._never, hidden()[:, None], None, extras)


class BatchedRepeatPrevious(_BatchedCards):
    """:class:`envs.repeat_previous.RepeatPreviousEnv` for ``n`` copies."""

    env_class = RepeatPreviousEnv

    def step(self, actions: Array) -> StepResult:
        e = self.env
        a = self._check_discrete(actions)
        scored = self.t >= e.k
        correct = scored & (a == self.cards[self.rows, np.maximum(self.t - e.k, 0)])
        return self._finish(correct, self._target, e.episode_length - e.k)

    def _target(self) -> Array:
        k = self.env.k
        return np.where(self.t >= k, self.cards[self.rows, np.maximum(self.t - k, 0)], -1).astype(np.float64)


class BatchedCountRecall(_BatchedCards):
    """:class:`envs.count_recall.CountRecallEnv` for ``n`` copies."""

    env_class = CountRecallEnv

    def __init__(self, envs: list[CountRecallEnv]) -> None:
        super().__init__(envs)
        self.counts = np.zeros((self.n_envs, self.env.n_cards), dtype=np.int64)

    def load(self, index: int) -> None:
        super().load(index)
        self.counts[index] = 0

    def _target(self) -> Array:
        current = self.cards[self.rows, self.t]
        return np.minimum(self.counts[self.rows, current], self.env.max_count)

    def step(self, actions: Array) -> StepResult:
        a = self._check_discrete(actions)
        correct = a == self._target()
        self.counts[self.rows, self.cards[self.rows, self.t]] += 1
        return self._finish(correct, lambda: self._target().astype(np.float64), self.env.episode_length)


class BatchedSwitchingBandit(BatchedCore[SwitchingBanditEnv]):
    """:class:`envs.bandit.SwitchingBanditEnv` for ``n`` copies; each pull's two draws from the copy's own
    generator (payout, then switch), as the single env takes them."""

    env_class = SwitchingBanditEnv

    def __init__(self, envs: list[SwitchingBanditEnv]) -> None:
        super().__init__(envs)
        n = self.n_envs
        self.better = np.zeros(n, dtype=np.int64)
        self.t = np.zeros(n, dtype=np.int64)
        self.on_better = np.zeros(n, dtype=np.int64)
        self._never = np.zeros(n, dtype=bool)
        self._obs = np.zeros((2, 2, 4), dtype=np.float32)  # after a pull: [arm, win] -> observation
        for arm in (0, 1):
            self._obs[arm, :, arm] = 1.0
            self._obs[arm, 1, 2] = 1.0

    def load(self, index: int) -> None:
        env = self.envs[index]
        self.better[index] = env._better
        self.t[index] = 0
        self.on_better[index] = 0

    def step(self, actions: Array) -> StepResult:
        e = self.env
        a = self._check_discrete(actions)
        good = a == self.better
        draws = np.array([env.np_random.random(2) for env in self.envs])  # = random(), random()
        win = draws[:, 0] < np.where(good, e.p_good, 1.0 - e.p_good)
        self.on_better += good
        self.better = np.where(draws[:, 1] < e.switch_prob, 1 - self.better, self.better)
        self.t += 1
        terminated = self.t >= e.episode_length
        extras = self.no_extras
        if np.count_nonzero(terminated):
            extras = {
                i: {"better_arm_fraction": int(self.on_better[i]) / e.episode_length}
                for i in np.flatnonzero(terminated).tolist()
            }
        obs = self._obs[a, win.view(np.int8)]
        hidden = self.better[:, None].astype(np.float64)
        return StepResult(obs, win.astype(np.float64), terminated, self._never, hidden, None, extras)
