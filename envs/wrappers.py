"""Wrappers that make any Gymnasium environment partially observable, selectable from YAML by name.

A config lists them in order (innermost first)::

    env:
      wrappers:
        - mask_observation: {indices: [1, 3]}
        - flicker: {p: 0.5}

and the training core calls :func:`apply_wrappers` with that list. The registry :data:`WRAPPERS` maps the
snake_case names to the classes:

| name                     | class                   | arguments                                  |
|--------------------------|-------------------------|--------------------------------------------|
| `mask_observation`       | `MaskObservation`       | `indices` (list of flat indices)           |
| `flicker`                | `Flicker`               | `p` in [0, 1]                              |
| `observation_noise`      | `ObservationNoise`      | `std` >= 0                                 |
| `previous_action_reward` | `PreviousActionReward`  | `reward_bound` > 0 or null; `reward` (bool) |

All wrappers need a ``Box`` observation space (``previous_action_reward`` also takes Discrete,
MultiDiscrete and MultiBinary ones, one-hot encoded), keep the observation space consistent with what they
return (so Gymnasium's and SB3's ``check_env`` pass), draw randomness only from a generator seeded by
``reset(seed=...)`` (same seed -> same episode), and are picklable (``SubprocVecEnv``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from envs.observation_wrappers import Flicker, MaskObservation, ObservationNoise, masked_box
from envs.previous_action_reward import PreviousActionReward

__all__ = [
    "WRAPPERS",
    "Flicker",
    "MaskObservation",
    "ObservationNoise",
    "PreviousActionReward",
    "apply_wrappers",
    "masked_box",
]


WRAPPERS: dict[str, type[gym.Wrapper[Any, Any, Any, Any]]] = {
    "mask_observation": MaskObservation,
    "flicker": Flicker,
    "observation_noise": ObservationNoise,
    "previous_action_reward": PreviousActionReward,
}


def _arguments(cls: type) -> tuple[list[str], list[str]]:
    """(all argument names, required argument names) of a wrapper's constructor, without ``env``."""
    params = list(inspect.signature(cls).parameters.values())[1:]  # drop env
    names = [p.name for p in params]
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    return names, required


def apply_wrappers(
    env: gym.Env[Any, Any], specs: Sequence[tuple[str, Mapping[str, Any] | None]]
) -> gym.Env[Any, Any]:
    """Wrap ``env`` with the wrappers named in ``specs`` (innermost first) and return the result.

    Each spec is ``(name, kwargs)`` with ``name`` a key of :data:`WRAPPERS`. Raises ValueError naming an
    unknown wrapper (listing the valid names), an unexpected or missing argument (listing the valid ones),
    or an invalid argument value.
    """
    for spec in specs:
        if isinstance(spec, str | bytes) or not isinstance(spec, Sequence) or len(spec) != 2:
            raise ValueError(f"wrapper spec {spec!r} is invalid: expected (name, arguments)")
        name, kwargs = spec
        if name not in WRAPPERS:
            raise ValueError(f"unknown wrapper {name!r}; valid: {', '.join(sorted(WRAPPERS))}")
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"{name}: arguments {kwargs!r} are invalid: expected a mapping")
        cls = WRAPPERS[name]
        names, required = _arguments(cls)
        for key in kwargs:
            if key not in names:
                raise ValueError(f"{name}: unexpected argument {key!r}; valid: {', '.join(names)}")
        for key in required:
            if key not in kwargs:
                raise ValueError(f"{name}: missing argument {key!r}; valid: {', '.join(names)}")
        env = cls(env, **kwargs)
    return env
