"""POPGym-style card games: RepeatPrevious (recall the card k steps back) and CountRecall (count cards)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import Env, spaces

from envs._validation import check_choice, check_int


def _palette(n: int) -> np.ndarray:
    """``n`` distinct colours (uint8, shape (n, 3)): hues evenly spaced around the colour wheel."""
    hue = np.arange(n)[:, None] / n
    phase = np.array([0.0, 1.0 / 3.0, 2.0 / 3.0])
    rgb = 0.5 + 0.5 * np.cos(2.0 * np.pi * (hue - phase))
    return (30 + 210 * rgb).astype(np.uint8)


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


class _CardEnv(Env[np.ndarray, np.int64]):
    """Shared machinery: i.i.d. uniform cards shown one-hot, a fixed episode length, rendering."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, n_cards: int, episode_length: int, n_actions: int, render_mode: str | None) -> None:
        self.n_cards = n_cards
        self.episode_length = episode_length
        self.render_mode = check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self._n_actions = n_actions
        self.action_space = spaces.Discrete(n_actions)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n_cards,), dtype=np.float32)
        self._obs = np.zeros(n_cards, dtype=np.float32)
        self._cards = np.zeros(episode_length + 1, dtype=np.int64)  # one extra for the final observation
        self._t = 0
        self._score = 0  # correct answers so far
        self._last_action: int | None = None
        self._colours = _palette(n_cards)

    def _observe(self) -> np.ndarray:
        self._obs.fill(0.0)
        self._obs[self._cards[self._t]] = 1.0
        return self._obs.copy()

    def _check_action(self, action: Any) -> int:
        a = int(action)
        if not 0 <= a < self._n_actions:
            raise ValueError(f"action={action!r} is invalid: expected one of 0..{self._n_actions - 1}")
        return a

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Deal a fresh sequence of cards and show the first one."""
        super().reset(seed=seed)
        self._cards[:] = self.np_random.integers(0, self.n_cards, size=self.episode_length + 1)
        self._t = 0
        self._score = 0
        self._last_action = None
        self._reset_extra()
        return self._observe(), self._hidden_info()

    def _reset_extra(self) -> None:
        """Hook for subclasses' per-episode state."""

    def _hidden_info(self) -> dict[str, Any]:
        """``hidden_state`` and ``hidden_state_visible`` (see :mod:`envs`) for the current observation."""
        raise NotImplementedError

    def render(self) -> str | np.ndarray | None:
        """``ansi``: one line of text; ``rgb_array``: a small uint8 image of the cards."""
        if self.render_mode == "ansi":
            return self._render_text()
        if self.render_mode == "rgb_array":
            return self._render_rgb()
        return None

    def _render_text(self) -> str:
        raise NotImplementedError

    def _render_rgb(self) -> np.ndarray:
        raise NotImplementedError

    def _strip(self, first: int, last: int, mark: int | None) -> np.ndarray:
        """Cards ``first..last`` (inclusive) as 12-px squares; ``mark`` gets a white bar underneath."""
        cell, gap = 12, 2
        n = last - first + 1
        img = np.full((cell + 4 * gap, n * (cell + gap) + gap, 3), 30, dtype=np.uint8)
        for i in range(n):
            x = gap + i * (cell + gap)
            img[gap : gap + cell, x : x + cell] = self._colours[self._cards[first + i]]
            if mark == first + i:
                img[cell + 2 * gap : cell + 3 * gap, x : x + cell] = 255
        return img


class RepeatPreviousEnv(_CardEnv):
    """
    ## Description

    POPGym's RepeatPrevious (Morad et al., ICLR 2023). Each step the agent is shown a card and must name
    the card it was shown ``k`` steps earlier. Cards are i.i.d. uniform over ``n_cards`` values (POPGym
    deals the four suits from a shuffled deck; independent draws make the memoryless bound exact).
    POPGym's Easy / Medium / Hard are ``k`` = 4 / 32 / 64 with episodes of 52 / 104 / 156 cards.

    **What is hidden:** the last ``k`` cards. Each must be remembered for exactly ``k`` steps.

    ## Action Space

    `Discrete(n_cards)`: the card shown ``k`` steps ago.

    ## Observation Space

    A float32 `Box(0, 1, (n_cards,))`: the one-hot current card.

    ## Rewards

    The action at step ``t`` (``t = 0`` is the reset observation) is scored against the card of step
    ``t - k``: ``+1 / (episode_length - k)`` if equal, 0 otherwise (POPGym gives ``-1/(...)`` for wrong
    answers; 0 keeps chance level at ``1/n_cards`` of the maximum). The first ``k`` steps have no target and
    earn 0 whatever the action.

    - **Optimal expected return: 1.0** (every scored answer right).
    - **Best memoryless policy: exactly ``1 / n_cards``** (0.25 by default). The card ``k`` steps back is
      independent of everything a memoryless policy sees, so every policy is right with probability
      ``1/n_cards`` per scored step.

    ## Starting State

    ``episode_length + 1`` cards are drawn from ``self.np_random``; the first is shown.

    ## Episode End

    Termination after ``episode_length`` actions (no time-limit wrapper is needed). The final step's info
    holds ``is_success`` (True iff every scored answer was right, i.e. return 1.0) and ``accuracy``
    (fraction of scored answers that were right).

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`):

    | Key           | Kind     | Value                                         | Visible |
    |---------------|----------|-----------------------------------------------|---------|
    | `target_card` | discrete | the correct answer now, 0 .. n_cards-1, or -1 | never   |

    ``target_card`` is the card shown ``k`` steps before the returned observation, and -1 during the first
    ``k`` steps (no target yet).

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("RecurrentRL/RepeatPrevious-v0", k=32, episode_length=104)  # POPGym Medium

    ```

    | Parameter        | Type        | Default | Description                                      |
    |------------------|-------------|---------|--------------------------------------------------|
    | `n_cards`        | int         | `4`     | distinct cards (suits), 2-64                     |
    | `k`              | int         | `4`     | how many steps back to recall (memory), 1-1000   |
    | `episode_length` | int         | `52`    | actions per episode, k+1 to 10000                |
    | `render_mode`    | str or None | `None`  | `"ansi"` (text) or `"rgb_array"` (uint8 image)   |
    """

    def __init__(
        self, n_cards: int = 4, k: int = 4, episode_length: int = 52, render_mode: str | None = None
    ) -> None:
        n_cards = check_int("n_cards", n_cards, 2, 64)
        self.k = check_int("k", k, 1, 1000)
        episode_length = check_int("episode_length", episode_length, self.k + 1, 10_000)
        super().__init__(n_cards, episode_length, n_cards, render_mode)
        self._reward = 1.0 / (episode_length - self.k)

    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"target_card": "discrete"}

    def _hidden_info(self) -> dict[str, Any]:
        target = float(self._cards[self._t - self.k]) if self._t >= self.k else -1.0
        return {"hidden_state": {"target_card": target}, "hidden_state_visible": {"target_card": False}}

    @property
    def target(self) -> int | None:
        """The correct answer now (None during the first ``k`` steps)."""
        return int(self._cards[self._t - self.k]) if self._t >= self.k else None

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Score the answer against the card ``k`` steps back, then show the next card."""
        a = self._check_action(action)
        reward = 0.0
        if self._t >= self.k and a == self._cards[self._t - self.k]:
            reward = self._reward
            self._score += 1
        self._last_action = a
        self._t += 1
        terminated = self._t >= self.episode_length
        info = self._hidden_info()
        if terminated:
            scored = self.episode_length - self.k
            info["is_success"] = self._score == scored
            info["accuracy"] = self._score / scored
        return self._observe(), reward, terminated, False, info

    def _render_text(self) -> str:
        recent = " ".join(str(c) for c in self._cards[max(0, self._t - self.k) : self._t + 1])
        return (
            f"t={self._t}/{self.episode_length} card={self._cards[self._t]} target={self.target} "
            f"last_action={self._last_action} correct={self._score} recent=[{recent}]\n"
        )

    def _render_rgb(self) -> np.ndarray:
        first = max(0, self._t - min(self.k, 15))
        return self._strip(first, self._t, self._t - self.k if self._t >= self.k else None)


class CountRecallEnv(_CardEnv):
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
