"""Pendulum with the angular velocity hidden, exactly as rl-baselines3-zoo's ``PendulumNoVel``."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.pendulum import PendulumEnv, angle_normalize

from envs._validation import check_choice, check_float
from envs.observation_wrappers import masked_box
from envs.velocity_hiding import RENDER_MODES, ObsType, hide, warn_no_render_mode


class PendulumNoVelEnv(PendulumEnv):
    """
    ## Description

    Gymnasium's ``Pendulum-v1`` (swing a pendulum up and keep it upright with a bounded torque) where the
    agent sees ``cos(theta)`` and ``sin(theta)`` but not the angular velocity, which is replaced by 0.0,
    exactly as rl-baselines3-zoo's ``PendulumNoVel-v1`` (``MaskVelocityWrapper``, index 2), so returns
    compare with the zoo's published numbers (RecurrentPPO: -217.9 +- 140.1 after 100k steps).

    **What is hidden:** the angular velocity. **Memory:** short, two consecutive angles give the velocity
    (``dt = 0.05`` s), but it must be tracked through the whole swing-up.

    ## Action Space

    ``Box(-2.0, 2.0, (1,), float32)``: the torque, as ``Pendulum-v1``. It is deliberately not rescaled to
    [-1, 1] (which both env checkers recommend) so that results and the zoo's hyperparameters carry over.

    ## Observation Space

    ``Box(3,)`` float32, the shape of ``Pendulum-v1``:

    | Num | Observation      | Min  | Max |
    |-----|------------------|------|-----|
    | 0   | x = cos(theta)   | -1.0 | 1.0 |
    | 1   | y = sin(theta)   | -1.0 | 1.0 |
    | 2   | Angular Velocity | always 0.0 (bounds -8, 8) |

    With ``noise_std > 0`` entries 0 and 1 get Gaussian noise, clipped to [-1, 1].

    ## Rewards

    ``-(theta^2 + 0.1 theta_dot^2 + 0.001 torque^2)`` per step with theta normalised to [-pi, pi]
    (0 upright), as ``Pendulum-v1``; between -16.27 and 0.
    **Optimal return:** about -150 (the full-state optimum of ``Pendulum-v1``; a recurrent agent can
    approach it, the zoo reports -217.9 +- 140.1 for RecurrentPPO).
    **Best memoryless return:** about -1100: zero torque gets -1190 and the best reactive policy found by
    random search (torque a function of cos, sin) -1100, because a torque that depends on the angle alone
    does no net work over a back-and-forth swing, so it cannot pump energy to swing up (an estimate,
    not a bound).

    ## Starting State

    Angle uniform in [-pi, pi], angular velocity uniform in [-1, 1] (``options`` as ``Pendulum-v1``).

    ## Episode End

    Truncation only: 200 steps, by the ``TimeLimit`` of the registry (``max_episode_steps=200``).
    There is no success criterion, so ``info["is_success"]`` is not reported.

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`), for the state the returned observation was taken from:

    | Key                | Kind       | Value                               | Visible |
    |--------------------|------------|-------------------------------------|---------|
    | `angular_velocity` | continuous | ``state[1]``, rad/s, in [-8, 8]     | never   |

    ## Arguments

    | Parameter     | Type         | Default | Description                                          |
    |---------------|--------------|---------|------------------------------------------------------|
    | `noise_std`   | float >= 0   | 0.0     | std of Gaussian noise on cos(theta) and sin(theta)   |
    | `g`           | float        | 10.0    | gravity, in [0, 100]                                 |
    | `render_mode` | str or None  | None    | ``"ansi"`` or ``"rgb_array"`` (100x100, numpy-drawn) |
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": 30}
    VELOCITY_INDICES = (2,)
    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"angular_velocity": "continuous"}

    def __init__(self, noise_std: float = 0.0, g: float = 10.0, render_mode: str | None = None) -> None:
        check_choice("render_mode", render_mode, [None, *RENDER_MODES])
        self.noise_std = check_float("noise_std", noise_std, 0.0, 1e6)
        super().__init__(render_mode=render_mode, g=check_float("g", g, 0.0, 100.0))
        self._hidden = np.array(self.VELOCITY_INDICES, dtype=np.intp)
        self._visible = np.array([0, 1], dtype=np.intp)
        assert isinstance(self.observation_space, gym.spaces.Box)
        self.observation_space = masked_box(self.observation_space, self._hidden)
        self.last_u: float | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        info.update(self._hidden_info())
        return hide(self, obs, self._visible, self._hidden, self.noise_std), info

    def _hidden_info(self) -> dict[str, Any]:
        return {
            "hidden_state": {"angular_velocity": float(self.state[1])},
            "hidden_state_visible": {"angular_velocity": False},
        }

    def step(self, action: np.ndarray) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        info.update(self._hidden_info())
        return (
            hide(self, obs, self._visible, self._hidden, self.noise_std),
            reward,
            terminated,
            truncated,
            info,
        )

    def render(self) -> Any:
        if self.render_mode is None:
            return warn_no_render_mode()
        theta = float(self.state[0])
        torque = 0.0 if self.last_u is None else float(self.last_u)
        if self.render_mode == "ansi":
            return (
                f"theta={np.degrees(angle_normalize(theta)):+.1f} deg (0 = upright)  torque={torque:+.2f}  "
                "(agent sees cos, sin; angular velocity hidden)\n"
            )
        from envs import _render

        size = 100
        image = _render.blank(size, size)
        centre = size / 2
        rod = 0.4 * size
        tip = (centre - rod * np.cos(theta), centre - rod * np.sin(theta))
        _render.draw_line(image, (centre, centre), tip, 8, (204, 77, 77))
        _render.fill_disc(image, centre, centre, 3, _render.BLACK)
        bar = torque / self.max_torque * (size / 2 - 5)
        _render.fill_rect(
            image, size - 6, size - 2, min(centre, centre + bar), max(centre, centre + bar) + 1, (60, 60, 200)
        )
        return image
