"""CartPole with the cart and pole velocities hidden, exactly as rl-baselines3-zoo's ``CartPoleNoVel``."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

from envs._validation import check_choice, check_float, check_int
from envs.observation_wrappers import masked_box
from envs.velocity_hiding import RENDER_MODES, ObsType, hide, warn_no_render_mode


class CartPoleNoVelEnv(CartPoleEnv):
    """
    ## Description

    Gymnasium's ``CartPole-v1`` (balance a pole on a cart by pushing the cart left or right) where the
    agent sees only the cart position and the pole angle: the cart velocity and the pole angular velocity
    are replaced by 0.0, exactly as rl-baselines3-zoo's ``CartPoleNoVel-v1`` (``MaskVelocityWrapper``,
    indices 1 and 3), so returns compare with the zoo's published numbers (RecurrentPPO: 500).

    **What is hidden:** both velocities. **Memory:** short, a couple of steps: the velocities are the
    differences of consecutive positions/angles divided by ``tau = 0.02`` s, so a policy that remembers the
    previous observation (and action) can recover them; the return is only as good as that estimate over
    the whole 500-step episode.

    ## Action Space

    ``Discrete(2)``: 0 pushes the cart to the left, 1 to the right (as ``CartPole-v1``).

    ## Observation Space

    ``Box(4,)`` float32, the shape of ``CartPole-v1``:

    | Num | Observation           | Min     | Max    |
    |-----|-----------------------|---------|--------|
    | 0   | Cart Position         | -4.8    | 4.8    |
    | 1   | Cart Velocity         | always 0.0 (bounds -1, 1) |
    | 2   | Pole Angle            | -0.418  | 0.418  |
    | 3   | Pole Angular Velocity | always 0.0 (bounds -1, 1) |

    The zoo keeps CartPole's infinite bounds for the masked entries; here they are (-1, 1), which changes
    nothing for the agent (SB3 policies and ``VecNormalize`` ignore bounds) but keeps ``check_env`` quiet.
    With ``noise_std > 0`` the visible entries get Gaussian noise, clipped to the bounds above.

    ## Rewards

    +1 per step, including the terminating one (``sutton_barto_reward=True``: 0 per step, -1 on failure).
    **Optimal return:** 500 (balance until the time limit), reached by RecurrentPPO in the zoo.
    **Best memoryless return:** not known exactly; about 45-50: pushing towards the side the pole leans
    to gets 39, the best linear reactive policy on (x, theta) found by random search (deterministic or
    stochastic) 44-52, because without velocities a reactive policy cannot damp the oscillation
    (an estimate, not a bound).

    ## Starting State

    All four state variables uniform in (-0.05, 0.05) (``options={"low": .., "high": ..}`` as CartPole).

    ## Episode End

    1. Termination: pole angle beyond +-12 degrees or cart position beyond +-2.4.
    2. Truncation: 500 steps, by the ``TimeLimit`` of the registry (``max_episode_steps=500``).

    ``info["is_success"]``: success means balancing for ``success_steps`` steps (default 500, the
    registry's time limit, so success == reaching the time limit). The env counts its own steps (the
    ``TimeLimit`` wrapper is outside it) and reports the outcome as soon as it is decided: ``False`` on
    the step the pole falls before that, ``True`` on every step from step ``success_steps`` on. So it is
    present at every episode end under the registered limit; with a longer ``max_episode_steps`` it is
    also correct at the end, and missing only for an episode truncated before ``success_steps``.

    ## Hidden state

    Every ``reset`` and ``step`` info holds ``info["hidden_state"]`` and ``info["hidden_state_visible"]``
    (see :mod:`envs`), both velocities of the state the returned observation was taken from:

    | Key                     | Kind       | Value                                   | Visible |
    |-------------------------|------------|-----------------------------------------|---------|
    | `cart_velocity`         | continuous | ``state[1]``, m/s (before masking)      | never   |
    | `pole_angular_velocity` | continuous | ``state[3]``, rad/s (before masking)    | never   |

    ## Arguments

    | Parameter             | Type          | Default | Description                                          |
    |-----------------------|---------------|---------|------------------------------------------------------|
    | `noise_std`           | float >= 0    | 0.0     | std of Gaussian noise on the visible entries         |
    | `success_steps`       | int >= 1      | 500     | steps to balance for ``is_success``                  |
    | `sutton_barto_reward` | bool          | False   | CartPole's alternative reward                        |
    | `render_mode`         | str or None   | None    | ``"ansi"`` or ``"rgb_array"`` (150x100, numpy-drawn) |

    ```python
    >>> import gymnasium as gym, envs
    >>> env = gym.make("RecurrentRL/CartPoleNoVel-v1")
    >>> obs, info = env.reset(seed=0)
    >>> float(obs[1]), float(obs[3])
    (0.0, 0.0)

    ```
    """

    metadata = {"render_modes": RENDER_MODES, "render_fps": 50}
    VELOCITY_INDICES = (1, 3)
    #: Keys of ``info["hidden_state"]`` -> kind.
    hidden_state_kinds = {"cart_velocity": "continuous", "pole_angular_velocity": "continuous"}

    def __init__(
        self,
        noise_std: float = 0.0,
        success_steps: int = 500,
        sutton_barto_reward: bool = False,
        render_mode: str | None = None,
    ) -> None:
        check_choice("render_mode", render_mode, [None, *RENDER_MODES])
        check_choice("sutton_barto_reward", sutton_barto_reward, [False, True])
        self.noise_std = check_float("noise_std", noise_std, 0.0, 1e6)
        self.success_steps = check_int("success_steps", success_steps, 1)
        super().__init__(sutton_barto_reward=bool(sutton_barto_reward), render_mode=render_mode)
        self._hidden = np.array(self.VELOCITY_INDICES, dtype=np.intp)
        self._visible = np.setdiff1d(np.arange(4), self._hidden).astype(np.intp)
        assert isinstance(self.observation_space, gym.spaces.Box)
        self.observation_space = masked_box(self.observation_space, self._hidden)
        self._elapsed = 0
        self._succeeded = False
        self._last_action: int | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        obs, info = super().reset(seed=seed, options=options)
        self._elapsed = 0
        self._succeeded = False
        self._last_action = None
        info.update(self._hidden_info())
        return hide(self, obs, self._visible, self._hidden, self.noise_std), info

    def _hidden_info(self) -> dict[str, Any]:
        assert self.state is not None
        state = self.state
        return {
            "hidden_state": {"cart_velocity": float(state[1]), "pole_angular_velocity": float(state[3])},
            "hidden_state_visible": {"cart_velocity": False, "pole_angular_velocity": False},
        }

    def step(self, action: int | np.ndarray) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        self._elapsed += 1
        self._last_action = int(action)
        if self._elapsed == self.success_steps and not terminated:
            self._succeeded = True
        if terminated or self._succeeded:
            info["is_success"] = self._succeeded
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
        if self.state is None:
            return None
        x, _, theta, _ = (float(v) for v in self.state)
        if self.render_mode == "ansi":
            width = 41
            col = int(round((x + self.x_threshold) / (2 * self.x_threshold) * (width - 1)))
            col = min(max(col, 0), width - 1)
            pole = "|" if abs(theta) < 0.035 else ("/" if theta > 0 else "\\")
            top = [" "] * width
            top[col] = pole
            track = ["-"] * width
            track[col] = "C"
            return (
                f"step {self._elapsed}  x={x:+.3f}  theta={np.degrees(theta):+.1f} deg  "
                "(agent sees x, theta; velocities hidden)\n" + "".join(top) + "\n" + "".join(track) + "\n"
            )
        from envs import _render

        height, width = 100, 150
        image = _render.blank(height, width)
        scale = width / (2 * self.x_threshold)
        track_row = 70
        cart_col = x * scale + width / 2
        _render.fill_rect(image, track_row, track_row + 1, 0, width, _render.BLACK)
        _render.fill_rect(image, track_row - 6, track_row + 4, cart_col - 10, cart_col + 10, _render.BLACK)
        pole_len = scale * 2 * self.length
        axle = (track_row - 6.0, cart_col)
        tip = (axle[0] - pole_len * np.cos(theta), axle[1] + pole_len * np.sin(theta))
        _render.draw_line(image, axle, tip, 3, (202, 152, 101))
        _render.fill_disc(image, axle[0], axle[1], 2, (129, 132, 203))
        return image
