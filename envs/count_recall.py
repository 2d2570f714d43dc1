"""CountRecall (POPGym style): say how many times the current card has been seen this episode."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs._validation import check_int
from envs.card_game import CardEnv


def count_recall_memoryless_best(n_cards: int, episode_length: int, max_count: int) -> float:
    """Exact expected return of the best memoryless CountRecall policy.

    A memoryless policy sees only the current card and (by symmetry of the cards) can do no better than
    one constant answer ``c``. At step ``t`` the target is ``min(Binomial(t, 1/n_cards), max_count)``, so
    the policy earns ``(1/T) * sum_t P(target_t = c)``; maximise over ``c``.
    """
    p = 1.0 / n_cards
    pmf = np.zeros(episode_length + 1)
    pmf[0] = 1.0  # count distribution at t = 0
    hits = np.zeros(max_count + 1)
    for t in range(episode_length):
        upto = min(max_count, t + 1)
        hits[:upto] += pmf[:upto]
        if t >= max_count:
            hits[max_count] += pmf[max_count : t + 1].sum()
        pmf[1 : t + 2] = pmf[1 : t + 2] * (1.0 - p) + pmf[: t + 1] * p
        pmf[0] *= 1.0 - p
    return float(hits.max() / episode_length)


class CountRecallEnv(CardEnv):
    """
    ## Description

    A POPGym-style CountRecall (Morad et al., ICLR 2023). Each step a card is dealt, i.i.d. uniform over
    ``n_cards`` values, and the agent must say how many times that card was dealt earlier in the episode
    (answers are clipped: ``max_count`` means "``max_count`` or more"). POPGym shows a separate query card
    and deals from 1 / 2 / 4 decks of 52 cards (Easy / Medium / Hard, counting colours / suits / ranks);
    here the query is the dealt card itself, and ``n_cards`` / ``episode_length`` are the deck knobs
    (POPGym Medium is roughly ``n_cards=4, episode_length=104, max_count=26``).

    **What is hidden:** the running count of every card value. Counts accumulate over the whole episode,
    so the memory horizon is ``episode_length`` steps.

    ## Action Space

    `Discrete(max_count + 1)`: the claimed number of earlier appearances of the current card.

    ## Observation Space

    A float32 `Box(0, 1, (n_cards,))`: the one-hot current card.

    ## Rewards

    ``+1 / episode_length`` for a correct count (``min(earlier appearances, max_count)``), 0 otherwise
    (POPGym gives ``-1/(...)`` for wrong answers).

    - **Optimal expected return: 1.0** (keep one counter per card value).
    - **Best memoryless policy: 0.12499** with the defaults (exact; answer 0 every time). A memoryless
      policy sees only the current card and can only give one answer per card; at step ``t`` the target
      is ``min(Binomial(t, 1/n_cards), max_count)``, so the best is
      ``max_c (1/T) sum_{t<T} P(target_t = c)``, which :func:`count_recall_memoryless_best` computes
      exactly for any knobs. When the best ``c`` is 0 it is ``(1 - (1 - 1/n)^T) * n / T``, about
      ``n_cards / episode_length``.

    ## Starting State

    ``episode_length + 1`` cards are drawn from ``self.np_random``; the first is shown (its count is 0).

    ## Episode End

    Termination after ``episode_length`` actions (no time-limit wrapper is needed). The final step's info
    holds ``is_success`` (True iff every answer was right, i.e. return 1.0) and ``accuracy``.

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`):

    | Key             | Kind     | Value                                     | Visible |
    |-----------------|----------|-------------------------------------------|---------|
    | `current_count` | discrete | the correct answer now, 0 .. max_count    | never   |

    ``current_count`` is the number of earlier appearances of the card in the returned observation,
    clipped to ``max_count``.

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("RecurrentRL/CountRecall-v0", n_cards=4, episode_length=104, max_count=26)

    ```

    | Parameter        | Type        | Default | Description                                       |
    |------------------|-------------|---------|---------------------------------------------------|
    | `n_cards`        | int         | `4`     | distinct card values, 2-64                        |
    | `episode_length` | int         | `32`    | cards dealt per episode (memory), 1-10000         |
    | `max_count`      | int         | `8`     | largest answer; higher counts are clipped, 1-1000 |
    | `render_mode`    | str or None | `None`  | `"ansi"` (text) or `"rgb_array"` (uint8 image)    |
    """

    def __init__(
        self,
        n_cards: int = 4,
        episode_length: int = 32,
        max_count: int = 8,
        render_mode: str | None = None,
    ) -> None:
        n_cards = check_int("n_cards", n_cards, 2, 64)
        episode_length = check_int("episode_length", episode_length, 1, 10_000)
        self.max_count = check_int("max_count", max_count, 1, 1000)
        super().__init__(n_cards, episode_length, self.max_count + 1, render_mode)
        self._counts = np.zeros(n_cards, dtype=np.int64)
        self._reward = 1.0 / episode_length

    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"current_count": "discrete"}

    def _hidden_info(self) -> dict[str, Any]:
        return {
            "hidden_state": {"current_count": float(self.target)},
            "hidden_state_visible": {"current_count": False},
        }

    def _reset_extra(self) -> None:
        self._counts.fill(0)

    @property
    def target(self) -> int:
        """The correct answer now: earlier appearances of the current card, clipped to ``max_count``."""
        return int(min(self._counts[self._cards[self._t]], self.max_count))

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Score the count for the current card, then deal the next one."""
        a = self._check_action(action)
        reward = 0.0
        if a == self.target:
            reward = self._reward
            self._score += 1
        self._counts[self._cards[self._t]] += 1
        self._last_action = a
        self._t += 1
        terminated = self._t >= self.episode_length
        info = self._hidden_info()
        if terminated:
            info["is_success"] = self._score == self.episode_length
            info["accuracy"] = self._score / self.episode_length
        return self._observe(), reward, terminated, False, info

    def _render_text(self) -> str:
        counts = " ".join(str(c) for c in self._counts)
        return (
            f"t={self._t}/{self.episode_length} card={self._cards[self._t]} target={self.target} "
            f"last_action={self._last_action} correct={self._score} counts=[{counts}]\n"
        )

    def _render_rgb(self) -> np.ndarray:
        strip = self._strip(self._t, self._t, None)  # the current card
        bar_w, height = 6, 40
        bars = np.full((height, self.n_cards * (bar_w + 2) + 2, 3), 30, dtype=np.uint8)
        fill = np.minimum(self._counts, self.max_count) * (height - 4) // self.max_count
        for i, f in enumerate(fill):
            x = 2 + i * (bar_w + 2)
            bars[height - 2 - f : height - 2, x : x + bar_w] = self._colours[i]
        img = np.full((height, strip.shape[1] + bars.shape[1], 3), 30, dtype=np.uint8)
        img[: strip.shape[0], : strip.shape[1]] = strip
        img[:, strip.shape[1] :] = bars
        return img
