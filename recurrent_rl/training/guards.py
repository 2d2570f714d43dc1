"""Stop training when the loss, a weight or an observation becomes NaN or infinite."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback


class NonFiniteError(RuntimeError):
    """Parameters or loss became NaN or infinite."""


def find_nonfinite(model: Any) -> str | None:
    """What is NaN or infinite: the last loss, a parameter, or the observation to act on; None if nothing."""
    logger = getattr(model, "_logger", None)
    loss = logger.name_to_value.get("train/loss") if logger is not None else None
    if loss is not None and not math.isfinite(loss):
        return f"the training loss became {loss} at timestep {model.num_timesteps}"
    for name, parameter in model.policy.named_parameters():
        if not torch.isfinite(parameter).all():
            return f"parameter {name} became NaN or infinite at timestep {model.num_timesteps}"
    observation = getattr(model, "_last_obs", None)
    is_float = isinstance(observation, np.ndarray) and observation.dtype.kind == "f"
    if is_float and not np.isfinite(np.asarray(observation)).all():
        return f"the environment returned a NaN or infinite observation at timestep {model.num_timesteps}"
    return None


class FiniteGuard(BaseCallback):
    """At each rollout start, stop if the loss or a parameter is NaN or infinite.

    Must come before :class:`~recurrent_rl.training.checkpoints.PeriodicCheckpoints` in the callback list,
    so no checkpoint holds such weights.
    """

    def _on_rollout_start(self) -> None:
        problem = find_nonfinite(self.model)
        if problem is not None:
            raise NonFiniteError(problem)

    def _on_step(self) -> bool:
        return True
