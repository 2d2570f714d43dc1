"""T-maze (Bakker 2002): a cue seen on the first step must be recalled at the junction."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import Env, spaces

from envs._validation import check_choice, check_float, check_int

FORWARD, UP, DOWN = 0, 1, 2


class TMazeEnv(Env[np.ndarray, np.int64]):
    """
    ## Description

    The T-maze of Bakker, "Reinforcement Learning with Long Short-Term Memory" (NeurIPS 2002). bsuite's
    ``memory_chain`` is the same task without the walking; ``corridor_length`` is its ``memory_length``
    axis and ``n_cues`` its ``memory_size`` (number of bits) axis. At reset ``n_cues``
    random bits are drawn and shown on the first step only. The agent then walks a corridor of
    ``corridor_length`` cells to a junction, where a query names one of the bits (always bit 0 when
    ``n_cues == 1``); the agent must turn up if that bit is 1 and down if it is 0.

    ```
        cue           U
        S . . . . . . J        S: start (cell 0), J: junction (cell corridor_length)
                      D
    ```

    **What is hidden:** the cue bits. They are visible in the first observation only and must be
    remembered for ``corridor_length`` steps (the optimal path: ``corridor_length`` forward steps, then the
    turn), longer if the agent dawdles.

    ## Action Space

    `Discrete(3)`:

    - 0: forward (at the junction this bumps into the wall: no move)
    - 1: turn up (in the corridor this bumps into the wall: no move)
    - 2: turn down (in the corridor this bumps into the wall: no move)

    ## Observation Space

    A float32 `Box(-1, 1, (n_cues + 3 + q,))` with ``q = n_cues`` if ``n_cues > 1`` else ``0``:

    | Index                        | Observation                                      | Values      |
    |------------------------------|--------------------------------------------------|-------------|
    | 0 .. n_cues-1                | cue bits: +1 (up) / -1 (down) on the first step  | {-1, 0, 1}  |
    | n_cues                       | at the start cell (cell 0)                       | {0, 1}      |
    | n_cues + 1                   | in the corridor (cells 1 .. corridor_length-1)   | {0, 1}      |
    | n_cues + 2                   | at the junction                                  | {0, 1}      |
    | n_cues + 3 .. 2 n_cues + 2   | one-hot query (``n_cues > 1`` only), at junction | {0, 1}      |

    The cue entries are 0 after the first step (also if the agent bumps and stays at the start cell).
    After the final turn the junction view is returned again.

    ## Rewards

    +1 for the correct turn, -1 for the wrong turn, ``-bump_penalty`` (default 0.1) for each bump into a
    wall (an action that does not move the agent), 0 otherwise. There is no per-step penalty, so the
    returns below do not depend on ``corridor_length``. The bump penalty is what makes the task quick to
    learn: without it, a policy that cannot yet remember has no reason to walk to the junction (turning
    there is worth 0 on average, the same as wandering until truncation). With the hyperparameters of
    ``configs/tmaze.yaml`` (RecurrentPPO, 8 envs) three seeds reached 100% evaluation success after
    40k-50k steps (``recurrent-rl train configs/tmaze.yaml``: 37 s on 2 CPU cores); with
    ``bump_penalty=0`` one of two seeds needed 130k steps and the other had not left 0% by 150k.
    Neither the optimal nor the best memoryless policy ever bumps, so the penalty does not change the
    figures below.

    - **Optimal expected return: 1.0** (success rate 100%): walk forward, turn as the remembered bit says.
    - **Best memoryless policy: expected return 0.0, success rate 50%**, for every ``n_cues``. A policy that
      sees only the current observation has the same input at the junction whatever the cue, so any turn
      it takes is right with probability 1/2 (+1 and -1 average to 0), and bumping only costs.

    ## Starting State

    The agent is at the start cell; the cue bits are uniform on {0, 1}^n_cues and the query index is
    uniform on {0, .., n_cues-1}, all drawn from ``self.np_random``. ``reset(options={"cues": [...],
    "query": i})`` fixes them (bits as 0/1; either key may be omitted), for tests and demonstrations.

    ## Episode End

    1. Termination: the agent turns up or down at the junction.
    2. Truncation: ``max_steps`` steps have passed (default ``2 * corridor_length + 10``), so a policy that
       keeps bumping into walls still ends. The limit lives in the env, not as a registry
       ``max_episode_steps``, because it must scale with ``corridor_length``: a fixed registry limit would
       make long corridors unsolvable or let short ones run needlessly long.

    ``info["is_success"]`` (bool) is in the info of the final step: True iff the turn was correct
    (False on truncation).

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` (floats, constant within an episode)
    and ``info["hidden_state_visible"]`` (bools, same keys), see :mod:`envs`:

    | Key                            | Kind     | Value                                  | Visible         |
    |--------------------------------|----------|----------------------------------------|-----------------|
    | `cue`                          | discrete | the asked bit as shown: +1 up, -1 down | first step only |
    | `asked_index` (n_cues > 1)     | discrete | index of the asked bit, 0 .. n_cues-1  | at the junction |
    | `cue_0` .. `cue_{n_cues-1}`    | discrete | each cue bit as shown: +1 / -1         | first step only |
    | (n_cues > 1)                   |          |                                        |                 |

    With ``n_cues == 1`` there is only ``cue`` (the asked index is always 0). ``cue`` counts as visible
    on the first step because the bits are on screen then, even though which one will be asked is not
    known yet. ``hidden_state_kinds`` lists the keys of this instance.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import envs
    >>> env = gym.make("RecurrentRL/TMaze-v0", corridor_length=20, n_cues=4, render_mode="ansi")

    ```

    | Parameter         | Type        | Default        | Description                                  |
    |-------------------|-------------|----------------|----------------------------------------------|
    | `corridor_length` | int         | `10`           | cells from start to junction (memory), 1-1000 |
    | `n_cues`          | int         | `1`            | cue bits shown at the start, 1-64             |
    | `max_steps`       | int or None | `2 * L + 10`   | truncation limit, >= corridor_length + 1      |
    | `bump_penalty`    | float       | `0.1`          | cost of a move into a wall, 0-1               |
    | `render_mode`     | str or None | `None`         | `"ansi"` (text) or `"rgb_array"` (uint8)      |
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        corridor_length: int = 10,
        n_cues: int = 1,
        max_steps: int | None = None,
        bump_penalty: float = 0.1,
        render_mode: str | None = None,
    ) -> None:
        self.corridor_length = check_int("corridor_length", corridor_length, 1, 1000)
        self.n_cues = check_int("n_cues", n_cues, 1, 64)
        if max_steps is None:
            max_steps = 2 * self.corridor_length + 10
        self.max_steps = check_int("max_steps", max_steps, self.corridor_length + 1)
        self.bump_penalty = check_float("bump_penalty", bump_penalty, 0.0, 1.0)
        self.render_mode = check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])

        self._flag = self.n_cues  # index of the start flag; corridor and junction follow
        self._query_at = self.n_cues + 3
        size = self._query_at + (self.n_cues if self.n_cues > 1 else 0)
        self.action_space = spaces.Discrete(3)
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(size,), dtype=np.float32)

        self._obs = np.zeros(size, dtype=np.float32)
        self._bits = np.zeros(self.n_cues, dtype=np.int64)
        bit_keys = [f"cue_{j}" for j in range(self.n_cues)] if self.n_cues > 1 else []
        query_keys = ["asked_index"] if self.n_cues > 1 else []
        #: Keys of ``info["hidden_state"]`` -> kind (all class labels here).
        self.hidden_state_kinds: dict[str, str] = dict.fromkeys(["cue", *query_keys, *bit_keys], "discrete")
        self._hidden: dict[str, float] = dict.fromkeys(self.hidden_state_kinds, 0.0)
        # hidden_state_visible on the first step, in the corridor, and at the junction.
        self._visible_start = {key: key != "asked_index" for key in self.hidden_state_kinds}
        self._visible_corridor = dict.fromkeys(self.hidden_state_kinds, False)
        self._visible_junction = {key: key == "asked_index" for key in self.hidden_state_kinds}
        self._query = 0
        self._pos = 0
        self._t = 0
        self._turn: int | None = None  # the action that ended the episode, for rendering

    # ------------------------------------------------------------------ helpers
    def _observe(self) -> np.ndarray:
        obs = self._obs
        obs.fill(0.0)
        if self._t == 0:
            obs[: self.n_cues] = 2.0 * self._bits - 1.0
        if self._pos == 0:
            obs[self._flag] = 1.0
        elif self._pos < self.corridor_length:
            obs[self._flag + 1] = 1.0
        else:
            obs[self._flag + 2] = 1.0
            if self.n_cues > 1:
                obs[self._query_at + self._query] = 1.0
        return obs.copy()

    def _info(self) -> dict[str, Any]:
        """``hidden_state`` and ``hidden_state_visible`` for the current observation (fresh dicts)."""
        if self._t == 0:
            visible = self._visible_start
        elif self._pos < self.corridor_length:
            visible = self._visible_corridor
        else:
            visible = self._visible_junction
        return {"hidden_state": dict(self._hidden), "hidden_state_visible": dict(visible)}

    def _set_hidden(self) -> None:
        signs = 2.0 * self._bits - 1.0
        self._hidden["cue"] = float(signs[self._query])
        if self.n_cues > 1:
            self._hidden["asked_index"] = float(self._query)
            for j, sign in enumerate(signs.tolist()):
                self._hidden[f"cue_{j}"] = sign

    @property
    def target(self) -> int:
        """The correct action at the junction (1: up, 2: down)."""
        return UP if self._bits[self._query] == 1 else DOWN

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode at the start cell with fresh cue bits and query."""
        super().reset(seed=seed)
        self._bits[:] = self.np_random.integers(0, 2, size=self.n_cues)
        self._query = int(self.np_random.integers(0, self.n_cues))
        if options:
            if options.get("cues") is not None:
                bits = np.asarray(options["cues"], dtype=np.int64).reshape(-1)
                if bits.shape != (self.n_cues,) or not np.isin(bits, (0, 1)).all():
                    raise ValueError(
                        f"options['cues']={options['cues']!r} is invalid: expected {self.n_cues} bits, 0 or 1"
                    )
                self._bits[:] = bits
            if options.get("query") is not None:
                self._query = check_int("options['query']", options["query"], 0, self.n_cues - 1)
        self._pos = 0
        self._t = 0
        self._turn = None
        self._set_hidden()
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move forward or turn; the turn at the junction ends the episode with +1 or -1."""
        a = int(action)
        if a not in (FORWARD, UP, DOWN):
            raise ValueError(f"action={action!r} is invalid: expected 0, 1 or 2")
        self._t += 1
        reward = 0.0
        terminated = False
        info: dict[str, Any] = {}
        if self._pos < self.corridor_length:
            if a == FORWARD:
                self._pos += 1
            else:
                reward = -self.bump_penalty
        elif a == FORWARD:
            reward = -self.bump_penalty
        else:
            terminated = True
            self._turn = a
            success = a == self.target
            reward = 1.0 if success else -1.0
            info["is_success"] = success
        truncated = not terminated and self._t >= self.max_steps
        if truncated:
            info["is_success"] = False
        info.update(self._info())
        return self._observe(), reward, terminated, truncated, info

    def render(self) -> str | np.ndarray | None:
        """``ansi``: the maze as text; ``rgb_array``: a small uint8 image (agent red, correct arm green)."""
        if self.render_mode == "ansi":
            return self._render_text()
        if self.render_mode == "rgb_array":
            return self._render_rgb()
        return None

    def _render_text(self) -> str:
        n = self.corridor_length
        rows = [[" "] * (n + 1), ["."] * (n + 1), [" "] * (n + 1)]
        rows[1][0] = "S"
        rows[1][n] = "J"
        rows[0][n] = "U"
        rows[2][n] = "D"
        row = {None: 1, UP: 0, DOWN: 2}[self._turn]
        rows[row][self._pos] = "@"
        bits = "".join(str(int(b)) for b in self._bits)
        target = "up" if self.target == UP else "down"
        head = f"t={self._t}/{self.max_steps} cues={bits} query={self._query} target={target}"
        return "\n".join([head, *("".join(r) for r in rows)]) + "\n"

    def _render_rgb(self) -> np.ndarray:
        n = self.corridor_length
        cell = int(np.clip(320 // (n + 1), 2, 16))
        img = np.full((3 * cell, (n + 1) * cell, 3), 40, dtype=np.uint8)  # walls

        def paint(row: int, col: int, colour: tuple[int, int, int]) -> None:
            img[row * cell : (row + 1) * cell, col * cell : (col + 1) * cell] = colour

        img[cell : 2 * cell, :] = 200  # corridor
        paint(1, 0, (80, 80, 220) if self._bits[0] == 1 else (230, 160, 40))  # start cell shows cue bit 0
        good, bad = (0, 2) if self.target == UP else (2, 0)
        paint(good, n, (60, 180, 60))
        paint(bad, n, (150, 150, 150))
        row = {None: 1, UP: 0, DOWN: 2}[self._turn]
        paint(row, self._pos, (220, 30, 30))
        return img
