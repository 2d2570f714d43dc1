"""PixelMemoryMaze: a policy with memory solves it, a memoryless one cannot beat 1/n_colors."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers RecurrentRL/ ids)
from envs.pixel_maze import EAST, NORTH, PALETTE, SOUTH, WEST, PixelMemoryMazeEnv
from tests.helpers.env_policies import without_hidden

ENV_ID = "RecurrentRL/PixelMemoryMaze-v0"
WALL_RGB = (120, 120, 120)


def cell_colour(obs: np.ndarray, row: int, col: int, pixels: int) -> tuple[int, ...]:
    """RGB at the centre of view cell (row, col)."""
    return tuple(int(v) for v in obs[row * pixels + pixels // 2, col * pixels + pixels // 2])


def palette_index(rgb: tuple[int, ...]) -> int | None:
    return next((i for i, colour in enumerate(PALETTE) if tuple(colour) == rgb), None)


class MemoryPolicy:
    """Reads the key at the start, remembers it, walks up and sweeps the hall for the door of that colour."""

    def __init__(self, env: PixelMemoryMazeEnv) -> None:
        self.r, self.px = env.radius, env.cell_pixels
        self.key: int | None = None
        self.sweep = EAST

    def reset(self, obs: np.ndarray) -> None:
        self.key = palette_index(cell_colour(obs, self.r + 1, self.r, self.px))  # key just south of the start
        assert self.key is not None
        self.sweep = EAST

    def act(self, obs: np.ndarray) -> int:
        r, px = self.r, self.px
        west_wall = cell_colour(obs, r, r - 1, px) == WALL_RGB
        east_wall = cell_colour(obs, r, r + 1, px) == WALL_RGB
        if west_wall and east_wall:  # in the corridor
            return NORTH
        doors = [palette_index(cell_colour(obs, r - 1, c, px)) for c in range(2 * r + 1)]
        if self.key in doors:
            offset = doors.index(self.key) - r
            return NORTH if offset == 0 else (EAST if offset > 0 else WEST)
        if (self.sweep == EAST and east_wall) or (self.sweep == WEST and west_wall):
            self.sweep = WEST if self.sweep == EAST else EAST
        return self.sweep


def fixed_colour_policy(colour: int, env: PixelMemoryMazeEnv):
    """A memoryless policy: up the corridor, then the visible door of one fixed colour."""
    r, px = env.radius, env.cell_pixels

    def act(obs: np.ndarray) -> int:
        if cell_colour(obs, r, r - 1, px) == WALL_RGB and cell_colour(obs, r, r + 1, px) == WALL_RGB:
            return NORTH
        doors = [palette_index(cell_colour(obs, r - 1, c, px)) for c in range(2 * r + 1)]
        offset = doors.index(colour) - r
        return NORTH if offset == 0 else (EAST if offset > 0 else WEST)

    return act


def run_episode(env: gym.Env, seed: int, policy) -> tuple[float, dict, int]:
    obs, _ = env.reset(seed=seed)
    if isinstance(policy, MemoryPolicy):
        policy.reset(obs)
    total, steps = 0.0, 0
    while True:
        action = policy.act(obs) if isinstance(policy, MemoryPolicy) else policy(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        steps += 1
        if terminated or truncated:
            return total, info, steps


def test_default_observation_fits_nature_cnn() -> None:
    env = gym.make(ENV_ID)
    assert env.observation_space == gym.spaces.Box(0, 255, (40, 40, 3), np.uint8)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.uint8 and obs in env.observation_space


def test_key_visible_at_start() -> None:
    env = gym.make(ENV_ID)
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        key = env.unwrapped.key_color
        assert cell_colour(obs, 3, 2, 8) == PALETTE[key]


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {},
        {"n_colors": 3},
        {"n_colors": 4, "corridor_length": 6},
        {"n_colors": 6, "view_size": 3, "cell_pixels": 12, "corridor_length": 1},
        {"n_colors": 5, "view_size": 7, "cell_pixels": 6, "corridor_length": 3},
    ],
)
def test_memory_policy_always_succeeds(kwargs: dict) -> None:
    env = gym.make(ENV_ID, **kwargs)
    policy = MemoryPolicy(env.unwrapped)
    for seed in range(60):
        ret, info, steps = run_episode(env, seed, policy)
        assert (ret, info["is_success"]) == (1.0, True)
        assert steps <= env.unwrapped.shortest_path + 2 * env.unwrapped.n_colors


@pytest.mark.parametrize("n_colors", [2, 3])
def test_memoryless_policy_gets_one_over_n(n_colors: int) -> None:
    env = gym.make(ENV_ID, n_colors=n_colors)
    episodes = 300
    for colour in range(n_colors):
        results = [
            run_episode(env, seed, fixed_colour_policy(colour, env.unwrapped)) for seed in range(episodes)
        ]
        success = np.mean([info["is_success"] for _, info, _ in results])
        mean_return = np.mean([ret for ret, _, _ in results])
        assert abs(success - 1 / n_colors) < 0.09
        assert abs(mean_return - (2 / n_colors - 1)) < 0.18


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"n_colors": 3}, {"view_size": 3, "corridor_length": 1}, {"view_size": 7, "corridor_length": 3}],
)
def test_key_is_invisible_wherever_a_door_can_be_chosen(kwargs: dict) -> None:
    """Same doors, different keys: identical observations from the first key-blind corridor cell on.

    This is what bounds every memoryless policy by 1/n_colors (see the class docstring).
    """
    env = gym.make(ENV_ID, **kwargs)
    maze = env.unwrapped
    by_layout: dict[tuple[tuple[int, ...], int], int] = {}
    for seed in range(200):
        env.reset(seed=seed)
        by_layout.setdefault((maze.door_colors, maze.key_color), seed)
    up = [NORTH] * (maze.corridor_length + 1)  # start -> hall centre
    half = maze.n_colors - 1
    # sweep the whole hall, back to its centre, down into the corridor and up again
    actions = up + [WEST] * half + [EAST] * (2 * half) + [WEST] * half + [SOUTH, NORTH]
    compared = 0
    for doors in {d for d, _ in by_layout}:
        seeds = [by_layout[(doors, k)] for k in range(maze.n_colors) if (doors, k) in by_layout]
        for a, b in itertools.combinations(seeds, 2):
            traces = []
            for seed in (a, b):
                obs, _ = env.reset(seed=seed)
                trace = [obs]
                for action in actions:
                    obs, _, terminated, _, _ = env.step(action)
                    assert not terminated
                    trace.append(obs)
                traces.append(trace)
            blind = maze.radius  # after `radius` steps north the key pedestal is out of view
            assert not np.array_equal(traces[0][0], traces[1][0])  # the key shows at the start...
            for t in range(blind, len(actions) + 1):  # ...but nowhere from the key-blind cell on
                np.testing.assert_array_equal(traces[0][t], traces[1][t])
            compared += 1
    assert compared >= 2


def test_wrong_door_and_timeout() -> None:
    env = gym.make(ENV_ID)
    maze = env.unwrapped
    for seed in range(20):
        env.reset(seed=seed)
        wrong_col = 1 if maze.door_colors[0] != maze.key_color else 3
        actions = [NORTH] * 5 + [WEST if wrong_col == 1 else EAST, NORTH]
        for action in actions:
            _, reward, terminated, truncated, info = env.step(action)
        assert (reward, terminated, truncated, info["is_success"]) == (-1.0, True, False, False)

    env.reset(seed=0)
    for step in range(1, maze.max_steps + 1):
        _, reward, terminated, truncated, info = env.step(SOUTH)  # bump into the key pedestal
        assert terminated is (step == maze.max_steps) and not truncated
    assert reward == -1.0 and without_hidden(info) == {"is_success": False, "timeout": True}
    assert maze.max_steps == 3 * (maze.corridor_length + maze.n_colors + 1)


def test_walls_block_and_reset_restores() -> None:
    env = gym.make(ENV_ID)
    first, _ = env.reset(seed=4)
    start = env.unwrapped.agent_position
    for action in (WEST, EAST, SOUTH):
        obs, *_ = env.step(action)
        assert env.unwrapped.agent_position == start
        np.testing.assert_array_equal(obs, first)
    env.step(NORTH)
    assert env.unwrapped.agent_position == (start[0] - 1, start[1])
    again, _ = env.reset(seed=4)
    np.testing.assert_array_equal(again, first)


def test_render_modes() -> None:
    env = gym.make(ENV_ID, render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert "@" in text and "key=" in text
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    maze = env.unwrapped
    assert image.dtype == np.uint8 and image.shape == (maze.height * 16, maze.width * 16, 3)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"corridor_length": 1}, "corridor_length"),  # key would be visible from the hall with a 5x5 view
        ({"corridor_length": 2.0}, "corridor_length"),
        ({"corridor_length": 1000}, "corridor_length"),
        ({"n_colors": 1}, "n_colors"),
        ({"n_colors": 7}, "n_colors"),
        ({"view_size": 4}, "view_size"),
        ({"cell_pixels": 0}, "cell_pixels"),
        ({"max_steps": 3}, "max_steps"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_arguments_raise(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}={kwargs[argument]!r}"):
        PixelMemoryMazeEnv(**kwargs)


def test_invalid_action_raises() -> None:
    env = PixelMemoryMazeEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action=4"):
        env.step(4)
