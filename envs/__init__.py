"""Partially observable Gymnasium environments that need memory.

Importing this package registers every environment under the ``RecurrentRL/`` namespace, so
``gymnasium.make("RecurrentRL/TMaze-v0")`` (and any YAML config naming these ids) works.
The POMDP wrappers that make any Gymnasium env partially observable live in :mod:`envs.wrappers`.

Hidden state
------------
Every environment here reports what it hides from the agent, for analysis (probing an LSTM's memory),
never for the agent itself. On every ``reset`` and every ``step``:

- ``info["hidden_state"]``: a dict of named Python floats, always with the same keys for a given env
  instance (for example TMaze's ``cue``, CartPoleNoVel's ``cart_velocity``); its value describes the
  state at the time of the observation returned with it.
- ``info["hidden_state_visible"]``: a dict with the same keys and Python bools, True iff the
  information that determines the value is shown in that observation (TMaze's cue bits on the first
  step, the pixel maze's key while it is in view). Variables that are never shown (velocities, the
  bandit's better arm) are always False.

Each env class documents its keys in the "Hidden state" paragraph of its docstring and declares them
in the attribute ``hidden_state_kinds``: key -> ``"discrete"`` (a class label: decode it with a
classifier) or ``"continuous"`` (decode it with a regression), in the order of ``info["hidden_state"]``.
It is an instance attribute because some keys depend on constructor arguments (TMaze's ``n_cues``).
:func:`hidden_state_kinds` reads it from an env id (with its constructor arguments) or an env. Wrappers
(``make``'s and :mod:`envs.wrappers`) pass both dicts through unchanged.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
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
        "envs.cartpole_novel:CartPoleNoVelEnv",
        500,
        "CartPole with cart and pole velocities zeroed (rl-baselines3-zoo's CartPoleNoVel)",
    ),
    (
        "PendulumNoVel-v1",
        "envs.pendulum_novel:PendulumNoVelEnv",
        200,
        "Pendulum with angular velocity zeroed (rl-baselines3-zoo's PendulumNoVel)",
    ),
    (
        "RepeatPrevious-v0",
        "envs.repeat_previous:RepeatPreviousEnv",
        None,
        "Output the card seen k steps ago (POPGym style; memory = k)",
    ),
    (
        "CountRecall-v0",
        "envs.count_recall:CountRecallEnv",
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


#: The two kinds of hidden variables in ``hidden_state_kinds``.
DISCRETE, CONTINUOUS = "discrete", "continuous"


def hidden_state_kinds(env: str | gym.Env[Any, Any], **kwargs: Any) -> dict[str, str]:
    """Key -> ``"discrete"`` / ``"continuous"`` for ``info["hidden_state"]`` of an env id or an env.

    ``env`` is a registered id (built with ``kwargs``, e.g. ``n_cues=4``, then closed) or an env
    (possibly wrapped). An env that does not report a hidden state gives ``{}``.
    """
    if isinstance(env, str):
        made = gym.make(env, **kwargs)
        try:
            return hidden_state_kinds(made)
        finally:
            made.close()
    kinds = getattr(env.unwrapped, "hidden_state_kinds", None)
    return dict(kinds) if isinstance(kinds, dict) else {}


_register_all()
