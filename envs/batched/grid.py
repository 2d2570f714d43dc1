"""Batched TMaze and PixelMemoryMaze: positions, counters and grids as arrays, one numpy pass per step."""

from __future__ import annotations

import numpy as np

from envs.batched.core import Array, BatchedCore, StepResult
from envs.pixel_maze import MOVES, PixelMemoryMazeEnv
from envs.pixel_maze_tiles import AGENT, DOOR, FLOOR, KEY
from envs.tmaze import FORWARD, TMazeEnv


class BatchedTMaze(BatchedCore[TMazeEnv]):
    """:class:`envs.tmaze.TMazeEnv` for ``n`` copies; observations and visibility from small tables indexed
    by (place, query), place 0 start, 1 corridor, 2 junction."""

    env_class = TMazeEnv

    def __init__(self, envs: list[TMazeEnv]) -> None:
        super().__init__(envs)
        n, e = self.n_envs, self.env
        self.target = np.zeros(n, dtype=np.int64)
        self.query = np.zeros(n, dtype=np.int64)
        self.pos = np.zeros(n, dtype=np.int64)
        self.t = np.zeros(n, dtype=np.int64)
        self.hidden = np.zeros((n, len(self.keys)), dtype=np.float64)  # constant within an episode
        self._obs = np.zeros((3, e.n_cues, int(np.prod(e.observation_space.shape or (0,)))), dtype=np.float32)
        for place in range(3):
            self._obs[place, :, e._flag + place] = 1.0
        if e.n_cues > 1:
            self._obs[2, np.arange(e.n_cues), e._query_at + np.arange(e.n_cues)] = 1.0
        # after a step (t >= 1) the start cell shows what the corridor shows
        corridor = [e._visible_corridor[k] for k in self.keys]
        self._visible = np.array([corridor, corridor, [e._visible_junction[k] for k in self.keys]])
        self._bump = np.array([0.0, -e.bump_penalty])

    def load(self, index: int) -> None:
        env = self.envs[index]
        self.target[index] = env.target
        self.query[index] = env._query
        self.pos[index] = 0
        self.t[index] = 0
        self.hidden[index] = list(env._hidden.values())

    def step(self, actions: Array) -> StepResult:
        e = self.env
        a = self._check_discrete(actions)
        self.t += 1
        forward = a == FORWARD
        in_corridor = self.pos < e.corridor_length
        self.pos += in_corridor & forward
        # a turn in the corridor or forward at the junction bumps; a turn at the junction ends the episode
        rewards = self._bump[(forward != in_corridor).view(np.int8)]
        terminated = ~(in_corridor | forward)
        truncated = self.t >= e.max_steps
        extras = self.no_extras
        if np.count_nonzero(terminated) or np.count_nonzero(truncated):
            truncated &= ~terminated
            success = terminated & (a == self.target)
            rewards[terminated] = np.where(success[terminated], 1.0, -1.0)
            extras = {
                i: {"is_success": bool(success[i])} for i in np.flatnonzero(terminated | truncated).tolist()
            }
        place = np.minimum(self.pos, 1) + (self.pos >= e.corridor_length)
        obs = self._obs[place, self.query]
        return StepResult(obs, rewards, terminated, truncated, self.hidden, self._visible[place], extras)


class BatchedPixelMemoryMaze(BatchedCore[PixelMemoryMazeEnv]):
    """:class:`envs.pixel_maze.PixelMemoryMazeEnv` for ``n`` copies; all views drawn in one gather."""

    env_class = PixelMemoryMazeEnv

    def __init__(self, envs: list[PixelMemoryMazeEnv]) -> None:
        super().__init__(envs)
        n, e = self.n_envs, self.env
        self.grids = np.stack([env._grid for env in self.envs])
        self.pos = np.zeros((n, 2), dtype=np.int64)
        self.key = np.zeros(n, dtype=np.int64)
        self.hidden = np.zeros((n, 1), dtype=np.float64)  # the key colour
        self.elapsed = np.zeros(n, dtype=np.int64)
        self._moves = np.array(MOVES, dtype=np.int64)
        self._window = np.arange(e.view_size)
        self._rows = np.arange(n)
        self._key_cell = np.array(e._key_cell)
        self._zeros = np.zeros(n, dtype=np.float64)
        self._never = np.zeros(n, dtype=bool)

    def load(self, index: int) -> None:
        env = self.envs[index]
        self.grids[index] = env._grid
        self.pos[index] = env._pos
        self.key[index] = self.hidden[index, 0] = env._key
        self.elapsed[index] = 0

    def step(self, actions: Array) -> StepResult:
        e = self.env
        target = self.pos + self._moves[self._check_discrete(actions)]
        cell = self.grids[self._rows, target[:, 0] + e.radius, target[:, 1] + e.radius]
        door = (cell >= DOOR) & (cell < KEY)
        moves = cell == FLOOR
        self.pos[moves] = target[moves]
        self.elapsed += 1
        timeout = ~door & (self.elapsed >= e.max_steps)
        terminated = door | timeout
        rewards = self._zeros
        extras = self.no_extras
        if np.count_nonzero(terminated):
            success = door & (cell - DOOR == self.key)
            rewards = np.where(success, 1.0, np.where(terminated, -1.0, 0.0))
            extras = {}
            for i in np.flatnonzero(terminated).tolist():
                extras[i] = (
                    {"is_success": bool(success[i]), "timeout": True}
                    if timeout[i]
                    else {"is_success": bool(success[i])}
                )
        in_view = (np.abs(self.pos - self._key_cell) <= e.radius).all(axis=1, keepdims=True)
        return StepResult(self._observation(), rewards, terminated, self._never, self.hidden, in_view, extras)

    def _observation(self) -> Array:
        """The ``(n, V*P, V*P, 3)`` views, as :meth:`PixelMemoryMazeEnv._observation` draws each one."""
        e, n, size = self.env, self.n_envs, self.env.view_size
        rows = self.pos[:, 0, None] + self._window  # padded coordinates: the window centred on the agent
        cols = self.pos[:, 1, None] + self._window
        codes = self.grids[self._rows[:, None, None], rows[:, :, None], cols[:, None, :]]
        codes[:, e.radius, e.radius] = AGENT
        image = e._obs_tiles[codes]  # (n, V, V, P, P, 3)
        side = size * e.cell_pixels
        return image.transpose(0, 1, 3, 2, 4, 5).reshape(n, side, side, 3)
