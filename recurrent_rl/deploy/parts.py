"""The pieces of :class:`~recurrent_rl.deploy.module.PolicyModule`: observation path and action head.

:class:`ObsPath` reproduces, for one observation key, what the project's vector env and SB3 do before the
features extractor: VecNormalize (float64 arithmetic, as SB3), frame stacking (as ``VecFrameStack``, with the
stack as explicit state), channel-last to channel-first (``VecTransposeImage``), then ``preprocess_obs``.
:class:`ActionHead` computes the greedy action as ``policy.predict(..., deterministic=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.vec_env.stacked_observations import StackedObservations
from torch import nn

__all__ = ["ActionHead", "ObsNormalization", "ObsPath", "torch_dtype"]


@dataclass(frozen=True)
class ObsNormalization:
    """VecNormalize's observation transform: ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)``."""

    mean: np.ndarray
    var: np.ndarray
    clip: float
    epsilon: float


def torch_dtype(space: gym.Space) -> torch.dtype:
    """The dtype a raw observation of ``space`` has as a tensor (Discrete: int64)."""
    if isinstance(space, gym.spaces.Discrete):
        return torch.int64
    return torch.from_numpy(np.zeros(0, dtype=space.dtype)).dtype


class ObsPath(nn.Module):
    """One observation key: normalisation, frame stack and transpose, then SB3's ``preprocess_obs``."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        raw_space: gym.Space,
        policy_space: gym.Space,
        normalization: ObsNormalization | None,
        frame_stack: int | None,
        normalize_images: bool,
    ) -> None:
        super().__init__()
        self.raw_space, self.policy_space, self.normalize_images = raw_space, policy_space, normalize_images
        self.normalize, self.stats = normalization is not None, normalization
        if normalization is not None:
            std = np.sqrt(np.asarray(normalization.var, dtype=np.float64) + normalization.epsilon)
            self.register_buffer("mean", torch.as_tensor(normalization.mean, dtype=torch.float64))
            self.register_buffer("std", torch.as_tensor(std, dtype=torch.float64))
            self.clip = float(normalization.clip)
        self.frame_stack = frame_stack
        shape = raw_space.shape or ()
        if frame_stack is not None:
            if not isinstance(raw_space, gym.spaces.Box):
                raise ValueError(f"frame stacking needs a Box observation space, not {raw_space}")
            first, _, stacked, _ = StackedObservations.compute_stacking(frame_stack, raw_space)
            self.stack_dim = 1 if first else len(shape)  # axis of the batched tensor
            self.frame_size = shape[0] if first else shape[-1]
            self.stack_shape: tuple[int, ...] = tuple(stacked)
            shape = self.stack_shape
        # Channel-last images: SB3 built the policy for the transposed (channel-first) view.
        self.transpose = tuple(shape) != tuple(policy_space.shape or ())
        if self.transpose and (len(shape) != 3 or (shape[2], shape[0], shape[1]) != policy_space.shape):
            raise ValueError(f"observation shape {shape} does not fit the policy's {policy_space.shape}")

    def forward(
        self, obs: torch.Tensor, stack: torch.Tensor | None, start: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return the policy's preprocessed view of ``obs`` and the new frame stack (or ``None``)."""
        if self.normalize:
            scaled = (obs.to(torch.float64) - self.mean) / self.std
            obs = torch.clamp(scaled, -self.clip, self.clip).to(torch.float32)
        new_stack = None
        if stack is not None and start is not None:
            reset = start.view((-1,) + (1,) * (stack.dim() - 1)) > 0.5
            kept = torch.where(reset, torch.zeros_like(stack), stack)
            older = kept.narrow(
                self.stack_dim, self.frame_size, stack.shape[self.stack_dim] - self.frame_size
            )
            obs = new_stack = torch.cat([older, obs.to(stack.dtype)], dim=self.stack_dim)
        if self.transpose:
            obs = obs.permute(0, 3, 1, 2)
        processed = preprocess_obs(obs, self.policy_space, normalize_images=self.normalize_images)
        assert isinstance(processed, torch.Tensor)
        return processed, new_stack


class ActionHead(nn.Module):
    """Actor MLP and action net; the distribution's mode as ``predict(deterministic=True)`` returns it."""

    low: torch.Tensor
    high: torch.Tensor

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self.policy_net = policy.mlp_extractor.policy_net
        self.action_net = policy.action_net
        self.space = space = policy.action_space
        self.squash = bool(getattr(policy, "squash_output", False))
        kinds = gym.spaces.Discrete | gym.spaces.Box | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary
        if not isinstance(space, kinds):
            raise ValueError(f"action space {space} is not supported")
        if isinstance(space, gym.spaces.Box):
            self.register_buffer("low", torch.as_tensor(space.low.reshape(-1), dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(space.high.reshape(-1), dtype=torch.float32))

    def forward(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(action, logits)``: logits are the action mean for Box spaces."""
        logits = self.action_net(self.policy_net(latent))
        space = self.space
        if isinstance(space, gym.spaces.Discrete):
            return torch.argmax(logits, dim=1), logits
        if isinstance(space, gym.spaces.Box):
            if self.squash:  # SB3 unscales tanh-squashed actions from [-1, 1]
                action = self.low + 0.5 * (torch.tanh(logits) + 1.0) * (self.high - self.low)
            else:
                action = torch.maximum(torch.minimum(logits, self.high), self.low)
            return action.reshape((-1, *space.shape)), logits
        if isinstance(space, gym.spaces.MultiDiscrete):
            parts = torch.split(logits, [int(n) for n in space.nvec.flatten()], dim=1)
            modes = torch.stack([torch.argmax(part, dim=1) for part in parts], dim=1)
            return modes.reshape((-1, *space.shape)), logits
        return (logits > 0).to(torch.float32).reshape((-1, *space.shape)), logits  # MultiBinary
