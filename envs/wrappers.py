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
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from envs._encoding import encode, flat_box
from envs._validation import check_float

__all__ = [
    "WRAPPERS",
    "Flicker",
    "MaskObservation",
    "ObservationNoise",
    "PreviousActionReward",
    "apply_wrappers",
    "masked_box",
]

Array = npt.NDArray[Any]


def _require_box(space: spaces.Space[Any], wrapper: str) -> spaces.Box:
    if not isinstance(space, spaces.Box):
        raise ValueError(f"{wrapper} needs a Box observation space, got {space}")
    return space


def _flat_indices(name: str, value: Any, size: int) -> npt.NDArray[np.intp]:
    """Validate ``value`` (an int or a non-empty list of ints) as flat indices into ``size`` entries."""
    valid = f"a non-empty list of integers in [0, {size - 1}] (the observation has {size} entries)"
    items = [value] if isinstance(value, int | np.integer) and not isinstance(value, bool) else value
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ValueError(f"{name}={value!r} is invalid: expected {valid}")
    items = list(items)
    if not items or any(isinstance(i, bool) or not isinstance(i, int | np.integer) for i in items):
        raise ValueError(f"{name}={value!r} is invalid: expected {valid}")
    if any(not 0 <= int(i) < size for i in items):
        raise ValueError(f"{name}={value!r} is out of range: expected {valid}")
    return np.unique(np.asarray(items, dtype=np.intp))


def masked_box(space: spaces.Box, flat_indices: Sequence[int] | npt.NDArray[np.intp]) -> spaces.Box:
    """The Box ``space`` with the (masked, always 0.0) entries at ``flat_indices`` given bounds containing 0.

    A masked entry keeps its original bounds widened to include 0; an infinite bound becomes +-1, since
    the entry is constant and Gymnasium's checker warns about infinite bounds (a degenerate ``[0, 0]``
    interval would trigger its "maximum and minimum values are equal" warning instead).
    """
    low = space.low.copy().reshape(-1)
    high = space.high.copy().reshape(-1)
    idx = np.asarray(flat_indices, dtype=np.intp)
    low[idx] = np.minimum(low[idx], 0)
    high[idx] = np.maximum(high[idx], 0)
    if np.issubdtype(low.dtype, np.floating):
        low[idx] = np.where(np.isneginf(low[idx]), -1, low[idx])
        high[idx] = np.where(np.isposinf(high[idx]), 1, high[idx])
    return spaces.Box(low.reshape(space.shape), high.reshape(space.shape), dtype=space.dtype)


class _SeededWrapper(gym.Wrapper[Array, Any, Array, Any]):
    """A wrapper with its own generator, reseeded by ``reset(seed=...)``.

    The generator is derived from the seed and the wrapper's name, so it neither consumes nor mirrors
    the wrapped environment's ``np_random`` (whose dynamics stay exactly as without the wrapper).
    """

    def __init__(self, env: gym.Env[Array, Any]) -> None:
        super().__init__(env)
        self._salt = zlib.crc32(type(self).__name__.encode())
        self._rng: np.random.Generator | None = None

    def _reseed(self, seed: int | None) -> np.random.Generator:
        if seed is not None or self._rng is None:
            entropy = None if seed is None else [self._salt, int(seed)]
            self._rng = np.random.default_rng(np.random.SeedSequence(entropy))
        return self._rng

    @property
    def rng(self) -> np.random.Generator:
        """The wrapper's own generator (created from fresh entropy if ``reset`` was never seeded)."""
        return self._reseed(None)


class MaskObservation(gym.ObservationWrapper[Array, Any, Array], gym.utils.RecordConstructorArgs):
    """Zero the given entries of a Box observation; the shape is kept.

    ``indices`` are flat (C-order) indices into the observation, i.e. plain indices for a 1-D Box:
    ``MaskObservation(gym.make("CartPole-v1"), [1, 3])`` hides both velocities, as in rl-baselines3-zoo's
    ``CartPoleNoVel``. Masked entries get bounds containing 0 (see :func:`masked_box`).

    Args:
        env: environment with a Box observation space.
        indices: one index or a non-empty list of indices in ``[0, observation size - 1]``.
    """

    def __init__(self, env: gym.Env[Array, Any], indices: int | Sequence[int]) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, indices=indices)
        gym.ObservationWrapper.__init__(self, env)
        box = _require_box(env.observation_space, "mask_observation")
        self.indices = _flat_indices("indices", indices, int(np.prod(box.shape)))
        self.observation_space = masked_box(box, self.indices)

    def observation(self, observation: Array) -> Array:
        out = np.array(observation, dtype=self.observation_space.dtype, copy=True)
        out.reshape(-1)[self.indices] = 0
        return out


class Flicker(_SeededWrapper, gym.utils.RecordConstructorArgs):
    """Blank the whole observation (all zeros) with probability ``p`` on every step and on reset.

    The flickering-screen POMDP of Hausknecht & Stone's DRQN study (they used ``p = 0.5`` on Pong).
    The observation bounds are widened to include 0. Draws come from the wrapper's own generator,
    seeded by ``reset(seed=...)``.

    Args:
        env: environment with a Box observation space.
        p: probability in ``[0, 1]`` that an observation is blanked.
    """

    def __init__(self, env: gym.Env[Array, Any], p: float = 0.5) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, p=p)
        _SeededWrapper.__init__(self, env)
        box = _require_box(env.observation_space, "flicker")
        self.p = check_float("p", p, 0.0, 1.0)
        self._shape, self._dtype = box.shape, box.dtype
        self.observation_space = spaces.Box(
            np.minimum(box.low, 0),
            np.maximum(box.high, 0),
            dtype=box.dtype,
        )

    def _flicker(self, observation: Array) -> Array:
        if self.rng.random() < self.p:
            return np.zeros(self._shape, dtype=self._dtype)
        return np.asarray(observation, dtype=self._dtype)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Array, Any]:
        self._reseed(seed)
        observation, info = self.env.reset(seed=seed, options=options)
        return self._flicker(observation), info

    def step(self, action: Any) -> tuple[Array, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._flicker(observation), reward, terminated, truncated, info


class ObservationNoise(_SeededWrapper, gym.utils.RecordConstructorArgs):
    """Add i.i.d. Gaussian noise of standard deviation ``std`` to every entry of a Box observation.

    Noisy observations are clipped to the observation space's (finite) bounds, so the space is unchanged;
    integer observations (e.g. images) are rounded after adding noise. Draws come from the wrapper's own
    generator, seeded by ``reset(seed=...)``.

    Args:
        env: environment with a Box observation space.
        std: noise standard deviation, ``>= 0`` (0 leaves observations untouched).
    """

    def __init__(self, env: gym.Env[Array, Any], std: float = 0.1) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, std=std)
        _SeededWrapper.__init__(self, env)
        box = _require_box(env.observation_space, "observation_noise")
        self.std = check_float("std", std, 0.0)
        if not np.isfinite(self.std):
            raise ValueError(f"std={std!r} is out of range: expected a finite number >= 0")
        self.observation_space = box
        self._integer = not np.issubdtype(box.dtype, np.floating)

    def _noisy(self, observation: Array) -> Array:
        box = self.observation_space
        assert isinstance(box, spaces.Box)
        noisy = np.asarray(observation, dtype=np.float64) + self.rng.normal(0.0, self.std, size=box.shape)
        if self._integer:
            noisy = np.rint(noisy)
        return np.clip(noisy, box.low, box.high).astype(box.dtype)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Array, Any]:
        self._reseed(seed)
        observation, info = self.env.reset(seed=seed, options=options)
        return self._noisy(observation), info

    def step(self, action: Any) -> tuple[Array, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._noisy(observation), reward, terminated, truncated, info


class PreviousActionReward(gym.Wrapper[Array, Any, Array, Any], gym.utils.RecordConstructorArgs):
    """Append the previous action and the previous reward to the observation.

    A 1-D Box observation is kept as it is; a Discrete, MultiDiscrete or MultiBinary one is first encoded
    as Stable-Baselines3 preprocesses it (one-hot, concatenated one-hots, bits). The action is one-hot
    encoded for ``Discrete`` (``n`` entries) and ``MultiDiscrete`` (concatenated one-hots) spaces and
    appended raw (flattened, clipped to its bounds) for ``Box`` and ``MultiBinary`` ones; the reward is one
    trailing entry. Both are zeros in the observation returned by ``reset``. Observation dtype: float32
    (float64 if the wrapped observation is a float64 Box).

    Args:
        env: environment with a 1-D Box, Discrete, MultiDiscrete or MultiBinary observation space
            (flatten images etc. first).
        reward_bound: if given (> 0), the appended reward is clipped to ``[-reward_bound, reward_bound]``
            and the space gets those finite bounds; ``None`` (default) leaves it unbounded.
        reward: False appends the previous action only (as POPGym's baselines do): where the reward tells
            whether the last answer was right, it can stand in for memory.
    """

    def __init__(
        self, env: gym.Env[Array, Any], reward_bound: float | None = None, reward: bool = True
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, reward_bound=reward_bound, reward=reward)
        gym.Wrapper.__init__(self, env)
        box = flat_box(env.observation_space, "previous_action_reward")
        if not isinstance(reward, bool):
            raise ValueError(f"reward={reward!r} is invalid: expected true or false")
        self.reward = reward
        self.reward_bound = (
            None if reward_bound is None else check_float("reward_bound", reward_bound, 0.0, low_open=True)
        )
        bound = np.inf if self.reward_bound is None else self.reward_bound
        r_low, r_high = ([-bound], [bound]) if reward else ([], [])

        action_space = env.action_space
        if isinstance(action_space, spaces.Discrete):
            self._action_size = int(action_space.n)
            a_low, a_high = np.zeros(self._action_size), np.ones(self._action_size)
        elif isinstance(action_space, spaces.MultiDiscrete):
            self._action_size = int(action_space.nvec.sum())
            a_low, a_high = np.zeros(self._action_size), np.ones(self._action_size)
        elif isinstance(action_space, spaces.MultiBinary):
            self._action_size = int(np.prod(action_space.shape))
            a_low, a_high = np.zeros(self._action_size), np.ones(self._action_size)
        elif isinstance(action_space, spaces.Box):
            self._action_size = int(np.prod(action_space.shape))
            a_low, a_high = action_space.low.reshape(-1), action_space.high.reshape(-1)
        else:
            raise ValueError(
                "previous_action_reward supports Discrete, MultiDiscrete, MultiBinary and Box action "
                f"spaces, got {action_space}"
            )
        dtype = np.float64 if box.dtype == np.float64 else np.float32
        self._obs_size = int(box.shape[0])
        self.observation_space = spaces.Box(
            np.concatenate([box.low, a_low, r_low]).astype(dtype),
            np.concatenate([box.high, a_high, r_high]).astype(dtype),
            dtype=dtype,
        )

    def _encode_action(self, action: Any) -> Array:
        space = self.env.action_space
        out = np.zeros(self._action_size, dtype=np.float64)
        if isinstance(space, spaces.Discrete):
            out[int(action) - int(space.start)] = 1.0
        elif isinstance(space, spaces.MultiDiscrete):
            offsets = np.concatenate([[0], np.cumsum(space.nvec.reshape(-1))[:-1]])
            out[offsets + np.asarray(action).reshape(-1) - space.start.reshape(-1)] = 1.0
        elif isinstance(space, spaces.Box):
            out[:] = np.clip(
                np.asarray(action, dtype=np.float64).reshape(-1),
                space.low.reshape(-1),
                space.high.reshape(-1),
            )
        else:
            out[:] = np.asarray(action, dtype=np.float64).reshape(-1)
        return out

    def _augment(self, observation: Array, action: Array, reward: float) -> Array:
        box = self.observation_space
        assert isinstance(box, spaces.Box)
        out = np.empty(box.shape, dtype=box.dtype)
        out[: self._obs_size] = encode(self.env.observation_space, np.asarray(observation)[None])[0]
        out[self._obs_size : self._obs_size + self._action_size] = action
        if self.reward:
            bound = self.reward_bound
            out[-1] = reward if bound is None else np.clip(reward, -bound, bound)
        return out

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Array, Any]:
        observation, info = self.env.reset(seed=seed, options=options)
        return self._augment(observation, np.zeros(self._action_size), 0.0), info

    def step(self, action: Any) -> tuple[Array, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        augmented = self._augment(observation, self._encode_action(action), float(reward))
        return augmented, reward, terminated, truncated, info


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
