"""What the NoVel envs share: hiding observation entries (with optional noise on the others), rendering."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

ObsType = npt.NDArray[np.float32]
RENDER_MODES = ["ansi", "rgb_array"]


def hide(
    env: gym.Env[Any, Any],
    observation: ObsType,
    visible: npt.NDArray[np.intp],
    hidden: npt.NDArray[np.intp],
    noise_std: float,
) -> ObsType:
    """Zero ``hidden`` entries; add N(0, noise_std^2) noise (from ``env.np_random``) to ``visible`` ones."""
    out = np.array(observation, dtype=np.float32, copy=True)
    out[hidden] = 0.0
    if noise_std > 0.0:
        box = env.observation_space
        assert isinstance(box, gym.spaces.Box)
        noisy = out[visible] + env.np_random.normal(0.0, noise_std, size=visible.shape)
        out[visible] = np.clip(noisy, box.low[visible], box.high[visible])
    return out


def warn_no_render_mode() -> None:
    """Gymnasium's warning for ``render()`` without a render mode (what CartPoleEnv and PendulumEnv do)."""
    gym.logger.warn(
        "You are calling render method without specifying any render mode. "
        'You can specify the render_mode at initialization, e.g. render_mode="rgb_array"'
    )
