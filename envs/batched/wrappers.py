"""The POMDP wrappers of :mod:`envs.wrappers` on batched arrays; random draws from each copy's wrapper."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from envs._encoding import encode
from envs.batched.core import Array, BatchedWrapper
from envs.wrappers import Flicker, MaskObservation, ObservationNoise, PreviousActionReward


class BatchedMaskObservation(BatchedWrapper[MaskObservation]):
    """Zero the same flat entries of every copy's observation."""

    wrapper_class = MaskObservation

    def observation(self, obs: Array, actions: Array, rewards: Array) -> Array:
        out = np.array(obs, dtype=self.observation_space.dtype, copy=True)
        out.reshape(len(out), -1)[:, self.layer.indices] = 0
        return out


class BatchedFlicker(BatchedWrapper[Flicker]):
    """Blank copy ``i``'s observation when its wrapper's generator draws below ``p``."""

    wrapper_class = Flicker

    def observation(self, obs: Array, actions: Array, rewards: Array) -> Array:
        layer = self.layer
        blank = np.array([wrapper.rng.random() < layer.p for wrapper in self.layers])
        out = np.asarray(obs, dtype=layer._dtype)
        if blank.any():
            out = out.copy()
            out[blank] = 0
        return out


class BatchedObservationNoise(BatchedWrapper[ObservationNoise]):
    """Gaussian noise from each copy's wrapper generator, rounded for integer spaces, clipped to the space."""

    wrapper_class = ObservationNoise

    def observation(self, obs: Array, actions: Array, rewards: Array) -> Array:
        box = self.observation_space
        assert isinstance(box, spaces.Box)
        std = self.layer.std
        noise = np.stack([wrapper.rng.normal(0.0, std, size=box.shape) for wrapper in self.layers])
        noisy = np.asarray(obs, dtype=np.float64) + noise
        if self.layer._integer:
            noisy = np.rint(noisy)
        return np.clip(noisy, box.low, box.high).astype(box.dtype)


class BatchedPreviousActionReward(BatchedWrapper[PreviousActionReward]):
    """Append each copy's action (one-hot for Discrete, clipped for Box) and reward to its observation
    (encoded as the single wrapper encodes it)."""

    wrapper_class = PreviousActionReward

    #: The action spaces whose encoding is batched (others stay with single envs).
    ACTION_SPACES = (spaces.Discrete, spaces.Box)

    def observation(self, obs: Array, actions: Array, rewards: Array) -> Array:
        layer, n = self.layer, len(obs)
        box = self.observation_space
        assert isinstance(box, spaces.Box)
        space = layer.env.action_space
        encoded = np.zeros((n, layer._action_size), dtype=np.float64)
        if isinstance(space, spaces.Discrete):
            encoded[np.arange(n), np.asarray(actions).reshape(n).astype(np.int64) - int(space.start)] = 1.0
        else:
            assert isinstance(space, spaces.Box)
            flat = np.asarray(actions, dtype=np.float64).reshape(n, -1)
            encoded[:] = np.clip(flat, space.low.reshape(-1), space.high.reshape(-1))
        out = np.empty((n, *box.shape), dtype=box.dtype)
        out[:, : layer._obs_size] = encode(layer.env.observation_space, obs)
        out[:, layer._obs_size : layer._obs_size + layer._action_size] = encoded
        if layer.reward:
            bound = layer.reward_bound
            out[:, -1] = rewards if bound is None else np.clip(rewards, -bound, bound)
        return out
