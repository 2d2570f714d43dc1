"""What the POPGym-style card games share: i.i.d. uniform cards shown one-hot, a fixed length, rendering."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import Env, spaces

from envs._validation import check_choice


def palette(n: int) -> np.ndarray:
    """``n`` distinct colours (uint8, shape (n, 3)): hues evenly spaced around the colour wheel."""
    hue = np.arange(n)[:, None] / n
    phase = np.array([0.0, 1.0 / 3.0, 2.0 / 3.0])
    rgb = 0.5 + 0.5 * np.cos(2.0 * np.pi * (hue - phase))
    return (30 + 210 * rgb).astype(np.uint8)


class CardEnv(Env[np.ndarray, np.int64]):
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
        self._colours = palette(n_cards)

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
