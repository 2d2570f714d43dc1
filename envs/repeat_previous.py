"""RepeatPrevious (POPGym style): output the card seen ``k`` steps ago."""

from __future__ import annotations

from typing import Any

import numpy as np

from envs._validation import check_int
from envs.card_game import CardEnv


class RepeatPreviousEnv(CardEnv):
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
