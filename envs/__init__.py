"""Partially observable Gymnasium environments that need memory.

Importing this package registers every environment under the ``RecurrentRL/`` namespace, so
``gymnasium.make("RecurrentRL/TMaze-v0")`` (and any YAML config naming these ids) works.
The POMDP wrappers that make any Gymnasium env partially observable live in :mod:`envs.wrappers`.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

NAMESPACE = "RecurrentRL"

# id, entry point, max_episode_steps (None: the episode ends by itself), one-line description.
ENVIRONMENTS: tuple[tuple[str, str, int | None, str], ...] = (
    (
        "TMaze-v0",
        "envs.tmaze:TMazeEnv",
        None,
        "T-maze: a cue shown on the first step must be recalled at the junction (memory = corridor_length)",
    ),
    (
        "CartPoleNoVel-v1",
        "envs.novel:CartPoleNoVelEnv",
        500,
        "CartPole with cart and pole velocities zeroed (rl-baselines3-zoo's CartPoleNoVel)",
    ),
    (
        "PendulumNoVel-v1",
        "envs.novel:PendulumNoVelEnv",
        200,
        "Pendulum with angular velocity zeroed (rl-baselines3-zoo's PendulumNoVel)",
    ),
    (
        "RepeatPrevious-v0",
        "envs.cards:RepeatPreviousEnv",
        None,
        "Output the card seen k steps ago (POPGym style; memory = k)",
    ),
    (
        "CountRecall-v0",
        "envs.cards:CountRecallEnv",
        None,
        "Say how many times the current card has been seen this episode (POPGym style)",
    ),
    (
        "PixelMemoryMaze-v0",
        "envs.pixel_maze:PixelMemoryMazeEnv",
        None,
        "Egocentric RGB grid world: remember the key colour, open the door of that colour (CnnLstmPolicy)",
    ),
    (
        "SwitchingBandit-v0",
        "envs.bandit:SwitchingBanditEnv",
        None,
        "Two-armed bandit whose better arm switches at random: infer the regime from recent history",
    ),
)


def _register_all() -> None:
    for name, entry_point, max_episode_steps, _ in ENVIRONMENTS:
        env_id = f"{NAMESPACE}/{name}"
        if env_id not in registry:
            register(id=env_id, entry_point=entry_point, max_episode_steps=max_episode_steps)


def descriptions() -> dict[str, str]:
    """Registered id -> one-line description, for ``recurrent-rl envs``."""
    return {f"{NAMESPACE}/{name}": text for name, _, _, text in ENVIRONMENTS}


_register_all()
