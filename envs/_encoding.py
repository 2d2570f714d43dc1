"""Observations as flat float vectors, the way Stable-Baselines3 preprocesses them for an MLP.

A 1-D Box stays as it is; a Discrete observation becomes a one-hot vector of ``n`` entries; a MultiDiscrete
one the concatenated one-hots of its entries; a MultiBinary one its bits as 0.0/1.0. Used by
``previous_action_reward`` (single and batched), which appends to such a vector.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

Array = npt.NDArray[Any]

#: The observation spaces :func:`flat_box` takes.
ENCODED = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def flat_box(space: spaces.Space[Any], wrapper: str) -> spaces.Box:
    """The 1-D Box of the encoded observations of ``space``; ValueError naming ``wrapper`` otherwise."""
    if isinstance(space, spaces.Box):
        if len(space.shape) != 1:
            raise ValueError(
                f"{wrapper} needs a 1-D Box observation space, got shape {space.shape}; "
                "flatten the observation first (gymnasium.wrappers.FlattenObservation)"
            )
        return space
    if isinstance(space, spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
        if isinstance(space, spaces.MultiBinary | spaces.MultiDiscrete) and len(space.shape) != 1:
            raise ValueError(f"{wrapper} needs a 1-D {type(space).__name__} observation space, got {space}")
        size = int(space.n) if isinstance(space, spaces.Discrete) else _one_hot_size(space)
        return spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
    raise ValueError(
        f"{wrapper} needs a Box, Discrete, MultiDiscrete or MultiBinary observation space, got {space}"
    )


def _one_hot_size(space: spaces.MultiDiscrete | spaces.MultiBinary) -> int:
    if isinstance(space, spaces.MultiBinary):
        return int(np.prod(space.shape))
    return int(space.nvec.sum())


def encode(space: spaces.Space[Any], observations: Array) -> Array:
    """The encoded observations of ``n`` copies: ``(n, ...)`` raw -> ``(n, size)`` (a Box: as it is)."""
    n = len(observations)
    if isinstance(space, spaces.Box | spaces.MultiBinary):
        return np.asarray(observations).reshape(n, -1)
    if isinstance(space, spaces.Discrete):
        out = np.zeros((n, int(space.n)), dtype=np.float32)
        out[np.arange(n), np.asarray(observations).reshape(n).astype(np.int64) - int(space.start)] = 1.0
        return out
    assert isinstance(space, spaces.MultiDiscrete)
    nvec, start = space.nvec.reshape(-1), space.start.reshape(-1)
    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    columns = offsets + np.asarray(observations).reshape(n, -1).astype(np.int64) - start
    out = np.zeros((n, int(nvec.sum())), dtype=np.float32)
    out[np.arange(n)[:, None], columns] = 1.0
    return out
