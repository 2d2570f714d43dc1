"""Pixel memory maze: see a coloured key at the start, walk up a corridor, open the door of that colour."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from envs._validation import check_choice, check_int
from envs.pixel_maze_tiles import AGENT, ANSI, COLOUR_NAMES, DOOR, FLOOR, KEY, PALETTE, WALL, tiles

__all__ = ["COLOUR_NAMES", "PALETTE", "PixelMemoryMazeEnv"]

ObsType = npt.NDArray[np.uint8]

NORTH, EAST, SOUTH, WEST = 0, 1, 2, 3
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


class PixelMemoryMazeEnv(gym.Env[ObsType, np.int64]):
    """
    ## Description

    A small grid world seen through an agent-centred RGB window. The agent starts at the bottom of a
    one-cell-wide corridor, next to a coloured key (one of ``n_colors`` colours, drawn at random). At the
    top of the corridor is a hall whose far wall holds ``n_colors`` doors, one of each colour, in a random
    order. Walking into the door of the key's colour wins, any other door loses. The corridor is long
    enough that the key is out of view in the hall, so the colour must be remembered::

        #R#B#     R, B: doors (random order)
        #...#     hall
        ##.##     corridor (corridor_length cells)
        ##.##
        ##@##     start (agent @)
        ##r##     key (here red), an impassable pedestal

    **What is hidden:** the key colour, visible only within ``view_size // 2`` cells of the start.
    **Memory horizon:** after the last observation showing the key, at least
    ``corridor_length + 3 - view_size // 2`` steps (one more with an even number of doors) are needed to
    enter a door: 6 with the defaults (corridor 4, 5x5 view, 2 doors). Set by ``corridor_length``.

    ## Action Space

    ``Discrete(4)``: 0 north (up), 1 east (right), 2 south (down), 3 west (left). The view is agent-centred
    but not rotated (moves are compass moves). Moving into a wall or the key pedestal does nothing.

    ## Observation Space

    ``Box(0, 255, (V * P, V * P, 3), uint8)`` with ``V = view_size`` and ``P = cell_pixels``: the
    ``V x V`` cells around the agent (walls outside the maze), each drawn as a ``P x P`` tile; the agent is
    the white square in the centre. Defaults: 5x5 cells at 8 px = 40x40x3, channel-last, enough for SB3's
    ``NatureCNN`` (needs >= 36x36) and so for sb3-contrib's ``CnnLstmPolicy``. Colours: :data:`PALETTE`
    (doors are framed in grey, keys are a smaller square on the floor).

    ## Rewards

    +1 for the door of the key's colour, -1 for any other door, -1 on running out of time, 0 otherwise.
    Running out of time costs the same as a wrong door so that not choosing is never better than
    choosing: with a free time-out a memoryless policy could score 1/n by walking to one fixed colour's
    door when it sees that key and idling next to any other key until the time-out.
    **Optimal return:** +1 (``corridor_length + 1`` steps up to the hall, then along it to the right door).
    **Best memoryless return:** ``2 / n_colors - 1`` (0 for 2 colours), success rate ``1 / n_colors``,
    e.g. by always opening the door of one fixed colour. No reactive (even stochastic) policy does better:
    every cell from which a door can be entered is out of the key's sight, and all paths to them pass
    through one key-blind corridor cell, entered always in the same position. From there the walk is a
    Markov chain on key-independent observations, so the door ``J`` it first reaches has a distribution
    independent of the key; success for key ``k`` needs ``J = k``, so the success rates over the keys sum to
    at most 1, and a time-out is a failure too, hence return = 2 * success - 1.

    ## Starting State

    Agent on the start cell; key colour uniform over ``n_colors``; door colours a uniform permutation.

    ## Episode End

    Termination only (the time limit is part of the task, see Rewards, so it is not a truncation):

    1. The agent walks into a door: ``info["is_success"]`` is True for the key's colour, else False.
    2. ``max_steps`` steps have passed without a door: reward -1, ``info["is_success"] = False`` and
       ``info["timeout"] = True``. The default ``max_steps`` is 3x the shortest path to the farthest door,
       ``3 * (corridor_length + n_colors + 1)``, hence a constructor argument and not the registry's
       ``max_episode_steps`` (which is None).

    ## Arguments

    | Parameter         | Type        | Default | Description                                                |
    |-------------------|-------------|---------|------------------------------------------------------------|
    | `corridor_length` | int         | 4       | cells between start and hall, in [view_size // 2, 200]     |
    | `n_colors`        | int         | 2       | number of key colours and doors, in [2, 6]                 |
    | `view_size`       | int         | 5       | side of the observed window in cells: 3, 5, 7 or 9         |
    | `cell_pixels`     | int         | 8       | pixels per cell in the observation, in [1, 32]             |
    | `max_steps`       | int or None | None    | time limit, >= the shortest path to the farthest door      |
    |                   |             |         | (None: ``3 * (corridor_length + n_colors + 1)``)           |
    | `render_mode`     | str or None | None    | ``"ansi"`` (text map), ``"rgb_array"`` (top-down, 16 px)   |

    The properties ``key_color``, ``door_colors`` and ``agent_position`` expose the hidden state for
    debugging and tests; they are not part of the observation.

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`):

    | Key         | Kind     | Value                                   | Visible                       |
    |-------------|----------|-----------------------------------------|-------------------------------|
    | `key_color` | discrete | the key's colour index, 0 .. n_colors-1 | while the key is in the view  |
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 8}
    RENDER_CELL_PIXELS = 16
    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"key_color": "discrete"}

    def __init__(
        self,
        corridor_length: int = 4,
        n_colors: int = 2,
        view_size: int = 5,
        cell_pixels: int = 8,
        max_steps: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.render_mode = check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self.view_size = check_choice("view_size", view_size, [3, 5, 7, 9])
        self.radius = self.view_size // 2
        self.n_colors = check_int("n_colors", n_colors, 2, len(PALETTE))
        min_length = max(1, self.radius)
        try:
            self.corridor_length = check_int("corridor_length", corridor_length, min_length, 200)
        except ValueError as e:
            raise ValueError(
                f"{e} (the key must be out of view in the hall with view_size={view_size})"
            ) from e
        self.cell_pixels = check_int("cell_pixels", cell_pixels, 1, 32)
        self.shortest_path = self.corridor_length + self.n_colors + 1  # start -> farthest door
        self.max_steps = (
            3 * self.shortest_path
            if max_steps is None
            else check_int("max_steps", max_steps, self.shortest_path)
        )

        side = self.view_size * self.cell_pixels
        self._obs_shape = (side, side, 3)
        self.observation_space = spaces.Box(0, 255, self._obs_shape, dtype=np.uint8)
        self.action_space = spaces.Discrete(4)

        # Layout (unpadded): row 0 doors, row 1 hall, corridor, start, key pedestal; see the docstring.
        n, length = self.n_colors, self.corridor_length
        self.height, self.width = length + 4, 2 * n + 1
        self._start = (length + 2, n)
        self._key_cell = (length + 3, n)
        self._door_cols = tuple(range(1, 2 * n, 2))
        base = np.full((self.height, self.width), WALL, dtype=np.int8)
        base[1, 1 : 2 * n] = FLOOR
        base[2 : length + 3, n] = FLOOR
        pad = self.radius
        self._base = np.pad(base, pad, constant_values=WALL)
        self._grid = self._base.copy()
        self._obs_tiles = tiles(self.cell_pixels)
        self._render_tiles: npt.NDArray[np.uint8] | None = None

        self._key = 0
        self._doors: tuple[int, ...] = tuple(range(n))
        self._pos = self._start
        self._elapsed = 0

    # -- hidden state, for debugging and tests (not observed) --
    @property
    def key_color(self) -> int:
        """Index (into :data:`PALETTE`) of this episode's key colour."""
        return self._key

    @property
    def door_colors(self) -> tuple[int, ...]:
        """Colour index of each door, west to east."""
        return self._doors

    @property
    def agent_position(self) -> tuple[int, int]:
        """(row, col) of the agent in the maze; row 0 is the door row."""
        return self._pos

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        super().reset(seed=seed)
        self._key = int(self.np_random.integers(self.n_colors))
        self._doors = tuple(int(c) for c in self.np_random.permutation(self.n_colors))
        pad = self.radius
        self._grid = self._base.copy()
        for col, colour in zip(self._door_cols, self._doors, strict=True):
            self._grid[pad, pad + col] = DOOR + colour
        self._grid[pad + self._key_cell[0], pad + self._key_cell[1]] = KEY + self._key
        self._pos = self._start
        self._elapsed = 0
        return self._observation(), self._hidden_info()

    def _hidden_info(self) -> dict[str, Any]:
        """``hidden_state`` and ``hidden_state_visible`` (see :mod:`envs`) for the current observation."""
        in_view = (
            abs(self._pos[0] - self._key_cell[0]) <= self.radius
            and abs(self._pos[1] - self._key_cell[1]) <= self.radius
        )
        return {
            "hidden_state": {"key_color": float(self._key)},
            "hidden_state_visible": {"key_color": in_view},
        }

    def step(self, action: np.int64 | int) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action={action!r} is invalid: expected an integer in [0, 3]")
        self._elapsed += 1
        d_row, d_col = MOVES[int(action)]
        row, col = self._pos[0] + d_row, self._pos[1] + d_col
        cell = int(self._grid[row + self.radius, col + self.radius])
        reward, terminated, outcome = 0.0, False, None
        if DOOR <= cell < KEY:
            success = cell - DOOR == self._key
            reward, terminated, outcome = (1.0 if success else -1.0), True, {"is_success": success}
        else:
            if cell == FLOOR:
                self._pos = (row, col)
            if self._elapsed >= self.max_steps:
                reward, terminated, outcome = -1.0, True, {"is_success": False, "timeout": True}
        info = self._hidden_info()
        if outcome is not None:
            info.update(outcome)
        return self._observation(), reward, terminated, False, info

    def _observation(self) -> ObsType:
        row, col = self._pos
        size = self.view_size
        codes = self._grid[row : row + size, col : col + size].copy()  # padded coords: centred on the agent
        codes[self.radius, self.radius] = AGENT
        image = self._obs_tiles[codes]  # (V, V, P, P, 3)
        return image.transpose(0, 2, 1, 3, 4).reshape(self._obs_shape)

    def render(self) -> str | ObsType | None:
        if self.render_mode is None:
            gym.logger.warn(
                "You are calling render method without specifying any render mode. "
                'You can specify the render_mode at initialization, e.g. render_mode="rgb_array"'
            )
            return None
        pad = self.radius
        codes = self._grid[pad : pad + self.height, pad : pad + self.width].copy()
        codes[self._pos] = AGENT
        if self.render_mode == "ansi":
            rows = ["".join(ANSI[int(c)] for c in line) for line in codes]
            header = (
                f"step {self._elapsed}/{self.max_steps}  key={COLOUR_NAMES[self._key]}  "
                f"doors={'/'.join(COLOUR_NAMES[c] for c in self._doors)}"
            )
            return header + "\n" + "\n".join(rows) + "\n"
        if self._render_tiles is None:
            self._render_tiles = tiles(self.RENDER_CELL_PIXELS)
        px = self.RENDER_CELL_PIXELS
        image = (
            self._render_tiles[codes].transpose(0, 2, 1, 3, 4).reshape(self.height * px, self.width * px, 3)
        )
        # Outline the agent's field of view.
        top, left = (self._pos[0] - pad) * px, (self._pos[1] - pad) * px
        bottom, right = top + self.view_size * px - 1, left + self.view_size * px - 1
        h, w = image.shape[:2]
        r0, r1, c0, c1 = max(top, 0), min(bottom, h - 1), max(left, 0), min(right, w - 1)
        yellow = (255, 230, 0)
        if top >= 0:
            image[top, c0 : c1 + 1] = yellow
        if bottom < h:
            image[bottom, c0 : c1 + 1] = yellow
        if left >= 0:
            image[r0 : r1 + 1, left] = yellow
        if right < w:
            image[r0 : r1 + 1, right] = yellow
        return image
