"""Wrappers that hide or corrupt a Box observation: mask chosen entries, flicker (blank it), add noise."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from envs._validation import check_float

Array = npt.NDArray[Any]


def require_box(space: spaces.Space[Any], wrapper: str) -> spaces.Box:
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
        box = require_box(env.observation_space, "mask_observation")
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
        box = require_box(env.observation_space, "flicker")
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
        box = require_box(env.observation_space, "observation_noise")
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
